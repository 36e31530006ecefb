// The project's OpenAPI document: served at /openapi.json, valid, and a
// superset of the seed spec that keeps every seed operation as it was.

package pbxauth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pbxauth/pbxauth"
)

type jsonObject = map[string]any

func loadJSON(t *testing.T, b []byte) jsonObject {
	t.Helper()
	var d jsonObject
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOpenAPIServedAndValid(t *testing.T) {
	e := newEnv(t)
	r := e.c.Do("GET", "/openapi.json", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || !bytes.Equal(r.Body, pbxauth.OpenAPI()) {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, r.Header)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Errorf("the document does not validate: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
}

// TestOpenAPIKeepsTheSeed: every operation of the seed spec is in the
// document with its path, method and operationId; its parameters and
// request properties keep their schemas (types, limits) and required
// lists; extensions add only optional properties; every seed answer is
// still described, its body's properties keep their schemas and what it
// requires stays required (an answer may promise more members, and be a
// named component).
func TestOpenAPIKeepsTheSeed(t *testing.T) {
	if n := keepsOperations(t, "testdata/portsip-auth-openapi.json", nil, nil); n != 14 {
		t.Errorf("the seed has %d operations, want 14", n)
	}
}

// servedCredentials are the operations of PortSIP's credentials document
// (DESIGN.md "More of PortSIP v22") that pbxauth serves.
var servedCredentials = []string{"resetCurrentUserPassword", "resetSystemAdminPassword", "resetUserPassword", "changeSystemAdminUsername",
	"retrieveTenantPasswordPolicy", "updateTenantPasswordPolicy", "generateMicrosoft365Certificate", "downloadMicrosoft365Certificate",
	"addUserMs365Binding", "removeUserMs365Binding", "getTenantMicrosoft365ProvisioningDetails", "updateTenantMicrosoft365Provisioning"}

// TestOpenAPIKeepsPortSIPCredentials: every served operation of PortSIP's
// credentials document is kept as the seed's are, but for the widenings
// DESIGN.md allows (widenCredentialOps), and the tags they carry are
// declared.
func TestOpenAPIKeepsPortSIPCredentials(t *testing.T) {
	n := keepsOperations(t, "testdata/portsip-v22-credentials.json", servedCredentials, widenCredentialOps)
	if n != len(servedCredentials) {
		t.Errorf("%d of the document's operations are checked, want %d", n, len(servedCredentials))
	}
	declared := map[string]bool{}
	for _, tag := range loadJSON(t, pbxauth.OpenAPI())["tags"].([]any) {
		declared[tag.(jsonObject)["name"].(string)] = true
	}
	for _, tag := range []string{"User", "Administration", "Tenant", "Microsoft 365"} {
		if !declared[tag] {
			t.Errorf("the tag %q is not declared", tag)
		}
	}
}

// keepsOperations checks that every operation of PortSIP's document at
// path (those of only, when only is not nil) is in ours with its path,
// method, operationId and security, and keeps its parameters, request
// properties and answers, after widen (when not nil) has applied to
// PortSIP's operation what DESIGN.md lets pbxauth change; it returns how
// many it checked.
func keepsOperations(t *testing.T, path string, only []string, widen func(jsonObject)) int {
	t.Helper()
	specBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, ours := loadJSON(t, specBytes), loadJSON(t, pbxauth.OpenAPI())
	ourPaths := ours["paths"].(jsonObject)
	n := 0
	for path, item := range spec["paths"].(jsonObject) {
		for method, so := range item.(jsonObject) {
			s := so.(jsonObject)
			if only != nil && !slices.Contains(only, s["operationId"].(string)) {
				continue
			}
			n++
			if widen != nil {
				widen(s)
			}
			oi, _ := ourPaths[path].(jsonObject)
			o, ok := oi[method].(jsonObject)
			if !ok {
				t.Errorf("%s %s is missing", method, path)
				continue
			}
			where := method + " " + path
			if o["operationId"] != s["operationId"] {
				t.Errorf("%s: operationId %v, want %v", where, o["operationId"], s["operationId"])
			}
			if got, want := security(ours, o), security(spec, s); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: security %v, want %v", where, got, want)
			}
			keepsParameters(t, where, s["parameters"], o["parameters"])
			keepsBody(t, where, s["requestBody"], o["requestBody"])
			keepsResponses(t, ours, where, s["responses"].(jsonObject), o["responses"].(jsonObject))
		}
	}
	return n
}

// security is what an operation of doc asks: its own security, else the
// document's.
func security(doc, op jsonObject) any {
	if s, ok := op["security"]; ok {
		return s
	}
	return doc["security"]
}

func keepsParameters(t *testing.T, where string, seed, ours any) {
	t.Helper()
	sp, _ := seed.([]any)
	op, _ := ours.([]any)
	for _, p := range sp {
		if !slices.ContainsFunc(op, func(q any) bool { return reflect.DeepEqual(p, q) }) {
			t.Errorf("%s: parameter %v changed or missing", where, p)
		}
	}
}

func keepsBody(t *testing.T, where string, seed, ours any) {
	t.Helper()
	if seed == nil {
		return
	}
	sc := seed.(jsonObject)["content"].(jsonObject)
	oc, _ := ours.(jsonObject)["content"].(jsonObject)
	for mt, sm := range sc {
		om, ok := oc[mt].(jsonObject)
		if !ok {
			t.Errorf("%s: request %s is gone", where, mt)
			continue
		}
		ss, us := sm.(jsonObject)["schema"].(jsonObject), om["schema"].(jsonObject)
		if !reflect.DeepEqual(ss["required"], us["required"]) {
			t.Errorf("%s: required %v, want %v", where, us["required"], ss["required"])
		}
		keepsProperties(t, where, ss, us)
	}
}

// keepsProperties checks that the object schema ours keeps every property
// of seed with its type and limits (descriptions may be reworded), and so
// the properties of an object property, and the items of an array: ours
// may add members to a nested object as to the body itself.
func keepsProperties(t *testing.T, where string, seed, ours jsonObject) {
	t.Helper()
	sprops, _ := seed["properties"].(jsonObject)
	oprops, _ := ours["properties"].(jsonObject)
	for name, schema := range sprops {
		got, _ := oprops[name].(jsonObject)
		keepsSchema(t, where+": property "+name, schema.(jsonObject), got)
	}
}

// keepsSchema checks that ours keeps every keyword of the property schema
// seed but its description.
func keepsSchema(t *testing.T, where string, seed, ours jsonObject) {
	t.Helper()
	for k, v := range seed {
		switch {
		case k == "description":
		case k == "properties":
			keepsProperties(t, where, seed, ours)
		case k == "items" && ours[k] != nil:
			keepsSchema(t, where+" items", v.(jsonObject), ours[k].(jsonObject))
		case !reflect.DeepEqual(ours[k], standard(k, v)):
			t.Errorf("%s: %s is %v, want %v", where, k, ours[k], standard(k, v))
		}
	}
}

// standard returns the seed's value v of keyword k as the document has it:
// the seed's format date_time (RFC 3339, its descriptions say) is
// date-time, the name OpenAPI gives that format.
func standard(k string, v any) any {
	if k == "format" && v == "date_time" {
		return "date-time"
	}
	return v
}

func keepsResponses(t *testing.T, doc jsonObject, where string, seed, ours jsonObject) {
	t.Helper()
	for code, sr := range seed {
		or, ok := ours[code].(jsonObject)
		if !ok {
			t.Errorf("%s: answer %s is gone", where, code)
			continue
		}
		sc, ok := sr.(jsonObject)["content"].(jsonObject)
		if !ok {
			continue
		}
		oc, _ := or["content"].(jsonObject)
		for mt, sm := range sc {
			ss := sm.(jsonObject)["schema"].(jsonObject)
			om, _ := oc[mt].(jsonObject)
			us, _ := om["schema"].(jsonObject)
			keepsAnswer(t, doc, fmt.Sprintf("%s answer %s %s", where, code, mt), ss, resolve(doc, us))
		}
	}
}

// keepsAnswer checks that the answer schema ours keeps seed: an object's
// properties with their schemas and its required members (ours may add
// members, and require more), a union each of its alternatives in order.
func keepsAnswer(t *testing.T, doc jsonObject, where string, seed, ours jsonObject) {
	t.Helper()
	if alts, ok := seed["oneOf"].([]any); ok {
		got, _ := ours["oneOf"].([]any)
		if len(got) != len(alts) {
			t.Errorf("%s: %d alternatives, want %d", where, len(got), len(alts))
			return
		}
		for i, alt := range alts {
			keepsAnswer(t, doc, fmt.Sprintf("%s alternative %d", where, i), alt.(jsonObject), resolve(doc, got[i].(jsonObject)))
		}
		return
	}
	if _, props := seed["properties"]; !props {
		if !reflect.DeepEqual(seed, ours) {
			t.Errorf("%s: the body changed", where)
		}
		return
	}
	for _, name := range asList(seed["required"]) {
		if !slices.Contains(asList(ours["required"]), name) {
			t.Errorf("%s: %v is no longer required", where, name)
		}
	}
	keepsProperties(t, where, seed, ours)
}

// TestREADMERoutes: the README's routes table lists exactly the operations
// of openapi.json, bearer where the document asks for a bearer token, and
// every one of them is served (no 404 from the router).
func TestREADMERoutes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "<!-- routes:begin -->")
	table, _, ok2 := strings.Cut(table, "<!-- routes:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no routes table between its markers")
	}
	listed := map[string]string{} // "METHOD path" -> auth
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[2:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			t.Fatalf("malformed row %q", line)
		}
		listed[cells[0]+" "+strings.Trim(cells[1], "`")] = cells[2]
	}
	doc := loadJSON(t, pbxauth.OpenAPI())
	e := newEnv(t)
	documented := 0
	for path, item := range doc["paths"].(jsonObject) {
		for method, op := range item.(jsonObject) {
			documented++
			key := strings.ToUpper(method) + " " + path
			auth, ok := listed[key]
			if !ok {
				t.Errorf("%s is not in the README's routes table", key)
				continue
			}
			bearer := strings.Contains(fmt.Sprint(op.(jsonObject)["security"]), "bearer")
			if bearer != (auth == "bearer") {
				t.Errorf("%s: the table says %q, the document bearer=%v", key, auth, bearer)
			}
			// A served path answers a method it lacks with 405 and the
			// methods it has; an unknown path would answer 404.
			concrete := strings.NewReplacer("{provider}", "microsoft", "{id}", "x").Replace(path)
			r := e.c.Do("PUT", concrete, nil) // no route has PUT (PATCH /auth/passkeys/{id} exists)
			if r.Status != 405 || !strings.Contains(r.Header.Get("Allow"), strings.ToUpper(method)) {
				t.Errorf("%s is documented but not served (PUT answered %d, Allow %q)", key, r.Status, r.Header.Get("Allow"))
			}
		}
	}
	if documented != len(listed) {
		t.Errorf("the table lists %d routes, the document %d", len(listed), documented)
	}
}
