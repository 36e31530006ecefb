// This file checks openapi.json against PortSIP's own text of the v22
// operations around credentials (testdata/portsip-v22-credentials.json):
// each operation pbxauth serves keeps PortSIP's operationId, security,
// parameters, request properties and answers, save the widenings DESIGN.md
// allows, which are applied to PortSIP's text before comparing.

package pbxauth_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/pbxauth/pbxauth"
)

// servedCredentialOps are the operations of PortSIP's credentials document
// that pbxauth serves, by operationId.
var servedCredentialOps = map[string]bool{
	"retrieveTenantPasswordPolicy": true,
	"updateTenantPasswordPolicy":   true,
}

// widenCredentialOps applies to PortSIP's text what DESIGN.md lets pbxauth
// change: the password policy's max_length goes up to 256, and its defaults
// are pbxauth's (each schema property's default is not compared).
func widenCredentialOps(op jsonObject) {
	var schemas []any
	if rb, ok := op["requestBody"].(jsonObject); ok {
		schemas = append(schemas, rb["content"].(jsonObject)["application/json"].(jsonObject)["schema"])
	}
	if ok, _ := op["responses"].(jsonObject)["200"].(jsonObject); ok != nil {
		if c, _ := ok["content"].(jsonObject); c != nil {
			schemas = append(schemas, c["application/json"].(jsonObject)["schema"])
		}
	}
	for _, s := range schemas {
		props, _ := s.(jsonObject)["properties"].(jsonObject)
		for name, p := range props {
			delete(p.(jsonObject), "default")
			if name == "max_length" {
				p.(jsonObject)["maximum"] = float64(256)
			}
		}
	}
}

// TestOpenAPIKeepsPortSIPPasswordPolicy: the tenant password policy keeps
// PortSIP's text but for the widenings above.
func TestOpenAPIKeepsPortSIPPasswordPolicy(t *testing.T) {
	b, err := os.ReadFile("testdata/portsip-v22-credentials.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, ours := loadJSON(t, b), loadJSON(t, pbxauth.OpenAPI())
	ourPaths := ours["paths"].(jsonObject)
	found := map[string]bool{}
	for path, item := range spec["paths"].(jsonObject) {
		for method, so := range item.(jsonObject) {
			s := so.(jsonObject)
			id, _ := s["operationId"].(string)
			if !servedCredentialOps[id] {
				continue
			}
			found[id] = true
			widenCredentialOps(s)
			oi, _ := ourPaths[path].(jsonObject)
			o, ok := oi[method].(jsonObject)
			if !ok {
				t.Errorf("%s %s (%s) is missing", method, path, id)
				continue
			}
			where := method + " " + path
			if o["operationId"] != id {
				t.Errorf("%s: operationId %v, want %v", where, o["operationId"], id)
			}
			// PortSIP's document puts bearer on every operation at its top.
			want := s["security"]
			if want == nil {
				want = spec["security"]
			}
			if !reflect.DeepEqual(o["security"], want) {
				t.Errorf("%s: security %v, want %v", where, o["security"], want)
			}
			keepsParameters(t, where, s["parameters"], o["parameters"])
			keepsBody(t, where, s["requestBody"], o["requestBody"])
			keepsResponses(t, ours, where, s["responses"].(jsonObject), o["responses"].(jsonObject))
		}
	}
	for id := range servedCredentialOps {
		if !found[id] {
			t.Errorf("%s is not in PortSIP's document", id)
		}
	}
	// The tags PortSIP's operations carry are declared.
	declared := map[string]bool{}
	for _, tag := range ours["tags"].([]any) {
		declared[tag.(jsonObject)["name"].(string)] = true
	}
	if !declared["Tenant"] {
		t.Error(`the tag "Tenant" is not declared`)
	}
}
