// Package pbxauth serves the Authentication section of the PortSIP PBX REST
// API v22 as plain net/http handlers behind a pluggable [Store].
package pbxauth
