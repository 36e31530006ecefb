package pbxauth

import (
	"testing"

	"github.com/pbxauth/pbxauth/store"
)

func TestMS365Issuer(t *testing.T) {
	for _, tc := range []struct {
		m                 store.MS365
		discovery, issuer string
		configured        bool
	}{
		{store.MS365{ApplicationID: "app", DirectoryID: "dir"},
			"https://login.microsoftonline.com/dir/v2.0", "https://login.microsoftonline.com/dir/v2.0", true},
		{store.MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "GLOBAL"},
			"https://login.microsoftonline.com/dir/v2.0", "https://login.microsoftonline.com/dir/v2.0", true},
		// The China cloud is discovered at chinacloudapi.cn but signs as partner.microsoftonline.cn.
		{store.MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "china"},
			"https://login.chinacloudapi.cn/dir/v2.0", "https://login.partner.microsoftonline.cn/dir/v2.0", true},
		{store.MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "CHINA", Issuer: "http://127.0.0.1:5556/oidc"},
			"http://127.0.0.1:5556/oidc", "http://127.0.0.1:5556/oidc", true},
		{store.MS365{ApplicationID: "app", Issuer: "http://127.0.0.1:5556/oidc"},
			"http://127.0.0.1:5556/oidc", "http://127.0.0.1:5556/oidc", true},
		{store.MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "USGOV"}, "", "", false},
		{store.MS365{ApplicationID: "app"}, "https://login.microsoftonline.com//v2.0", "https://login.microsoftonline.com//v2.0", false},
		{store.MS365{DirectoryID: "dir"}, "https://login.microsoftonline.com/dir/v2.0", "https://login.microsoftonline.com/dir/v2.0", false},
	} {
		d, i, _ := tc.m.Endpoints()
		if d != tc.discovery || i != tc.issuer || msConfigured(&tc.m) != tc.configured {
			t.Errorf("%+v: %q %q configured=%v", tc.m, d, i, msConfigured(&tc.m))
		}
	}
	var none *store.MS365
	if msConfigured(none) {
		t.Error("nil settings are configured")
	}
}
