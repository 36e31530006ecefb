// What a client generated from the project's OpenAPI document needs to get
// exact types (DESIGN.md, "The project's own OpenAPI document"): required
// members, named components, standard formats, declared headers and tags,
// and a licence.

package pbxauth_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIExactTypes reads the served document.
func TestOpenAPIExactTypes(t *testing.T) {
	e := newEnv(t)
	r := e.c.Do("GET", "/openapi.json", nil)
	doc := loadJSON(t, r.Body)

	info, _ := doc["info"].(jsonObject)
	license, _ := info["license"].(jsonObject)
	if license["name"] == nil || license["identifier"] != "Apache-2.0" || license["url"] != nil {
		t.Errorf("info.license is %v, want Apache-2.0 by its SPDX identifier (the LICENSE file)", license)
	}

	declared := map[string]bool{}
	for _, tag := range doc["tags"].([]any) {
		tag := tag.(jsonObject)
		if s, _ := tag["description"].(string); strings.TrimSpace(s) == "" {
			t.Errorf("tag %v has no description", tag["name"])
		}
		declared[tag["name"].(string)] = true
	}

	for where, op := range operations(doc) {
		for _, tag := range op["tags"].([]any) {
			if !declared[tag.(string)] {
				t.Errorf("%s: tag %q is not declared in tags", where, tag)
			}
		}
		// Redocly's operation-2xx-response is off (.ci/redocly.yaml): a
		// redirect is the success of a browser's route.
		if !slices.ContainsFunc(slices.Collect(maps.Keys(op["responses"].(jsonObject))), func(code string) bool {
			return strings.HasPrefix(code, "2") || strings.HasPrefix(code, "3")
		}) {
			t.Errorf("%s: no 2XX or 3XX answer", where)
		}
		for code, resp := range op["responses"].(jsonObject) {
			resp := resolve(doc, resp.(jsonObject))
			if strings.HasPrefix(code, "3") {
				headers, _ := resp["headers"].(jsonObject)
				loc, _ := headers["Location"].(jsonObject)
				if loc["required"] != true {
					t.Errorf("%s: the %s answer does not declare its Location header as required", where, code)
				}
			}
			if !strings.HasPrefix(code, "2") {
				continue
			}
			content, _ := resp["content"].(jsonObject)
			for mt, m := range content {
				checkMembers(t, doc, fmt.Sprintf("%s answer %s %s", where, code, mt), m.(jsonObject)["schema"].(jsonObject))
			}
		}
	}

	// The token pair is one component wherever it is answered, and the
	// answers that may ask for a second factor are unions of named ones.
	answers := map[string][]string{
		"refreshToken":           {"TokenPair"},
		"verifyOTP":              {"TokenPair"},
		"exchangeMicrosoftToken": {"TokenPair"},
		"signInWithCredentials":  {"SecondFactorChallenge", "TokenPair"},
		"getLoginStatus":         {"LoginStatus"},
		"login":                  {"LoginStatus", "SecondFactorChallenge"},
	}
	for where, op := range operations(doc) {
		want, ok := answers[op["operationId"].(string)]
		if !ok {
			continue
		}
		if got := answerComponents(doc, op); !slices.Equal(got, want) {
			t.Errorf("%s: the 200 answer is %v, want the components %v", where, got, want)
		}
	}
	pair := doc["components"].(jsonObject)["schemas"].(jsonObject)["TokenPair"].(jsonObject)
	if !sameSet(pair["required"], "token_type", "access_token", "refresh_token", "expires_in") {
		t.Errorf("TokenPair requires %v, want all four members", pair["required"])
	}
	status := doc["components"].(jsonObject)["schemas"].(jsonObject)["LoginStatus"].(jsonObject)
	if !sameSet(status["required"], "access_token", "expires_at", "expires_in", "role") {
		t.Errorf("LoginStatus requires %v, want all four members", status["required"])
	}

	walkSchemas(doc, "#", func(at string, s jsonObject) {
		// binary: PortSIP's own file answers (the Microsoft certificate), kept as PortSIP writes them.
		if f, ok := s["format"]; ok && !slices.Contains([]any{"date-time", "int32", "int64", "binary"}, f) {
			t.Errorf("%s: format %v is none the project uses (date-time, int32, int64, binary)", at, f)
		}
		props, _ := s["properties"].(jsonObject)
		for name, p := range props {
			p := resolve(doc, p.(jsonObject))
			if strings.HasSuffix(name, "_at") && p["format"] != "date-time" {
				t.Errorf("%s: the timestamp %s has format %v, want date-time", at, name, p["format"])
			}
			if name == "method" && p["enum"] == nil {
				t.Errorf("%s: method is no enum", at)
			}
		}
	})
}

// operations returns every operation of doc by "METHOD path".
func operations(doc jsonObject) map[string]jsonObject {
	ops := map[string]jsonObject{}
	for path, item := range doc["paths"].(jsonObject) {
		for method, op := range item.(jsonObject) {
			ops[strings.ToUpper(method)+" "+path] = op.(jsonObject)
		}
	}
	return ops
}

// resolve follows the local $ref of s, if any.
func resolve(doc, s jsonObject) jsonObject {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var at any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			at = at.(jsonObject)[part]
		}
		s = at.(jsonObject)
	}
}

// refName returns the component a schema refers to, "" for an inline one.
func refName(s jsonObject) string {
	ref, _ := s["$ref"].(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

// answerComponents returns the components of op's JSON 200 answer: the one
// it refers to, or those of the union it is (itself named or not).
func answerComponents(doc, op jsonObject) []string {
	ok, _ := op["responses"].(jsonObject)["200"].(jsonObject)
	content, _ := resolve(doc, ok)["content"].(jsonObject)
	m, _ := content["application/json"].(jsonObject)
	s, _ := m["schema"].(jsonObject)
	if s == nil {
		return nil
	}
	union, isUnion := resolve(doc, s)["oneOf"].([]any)
	if !isUnion && refName(s) == "" {
		return []string{"an inline schema"}
	}
	if !isUnion {
		return []string{refName(s)}
	}
	if refName(s) == "" {
		return []string{"an anonymous union"}
	}
	var names []string
	for _, alt := range union {
		names = append(names, refName(alt.(jsonObject)))
	}
	return names
}

// checkMembers insists that every object of an answer's schema lists its
// required members (each one a property it names), and that no answer
// spells the token pair out instead of referring to TokenPair.
func checkMembers(t *testing.T, doc jsonObject, where string, s jsonObject) {
	t.Helper()
	if refName(s) == "TokenPair" {
		s = resolve(doc, s)
	} else {
		s = resolve(doc, s)
		if props, _ := s["properties"].(jsonObject); props["access_token"] != nil && props["refresh_token"] != nil {
			t.Errorf("%s: a token pair spelt out, not TokenPair", where)
		}
	}
	for _, alt := range asList(s["oneOf"]) {
		checkMembers(t, doc, where+" (oneOf)", alt.(jsonObject))
	}
	if items, ok := s["items"].(jsonObject); ok {
		checkMembers(t, doc, where+" items", items)
	}
	props, _ := s["properties"].(jsonObject)
	if len(props) == 0 {
		return
	}
	required := asList(s["required"])
	if len(required) == 0 {
		t.Errorf("%s: an object without required members", where)
	}
	for _, name := range required {
		if props[name.(string)] == nil {
			t.Errorf("%s: required %v is no property", where, name)
		}
	}
	for name, p := range props {
		checkMembers(t, doc, where+"."+name, p.(jsonObject))
	}
}

// walkSchemas calls visit on every object in v (a JSON value at JSON
// pointer at) that has a type, properties or a format.
func walkSchemas(v any, at string, visit func(at string, s jsonObject)) {
	switch v := v.(type) {
	case jsonObject:
		_, typed := v["type"]
		_, props := v["properties"]
		_, format := v["format"]
		if typed || props || format {
			visit(at, v)
		}
		for k, w := range v {
			walkSchemas(w, at+"/"+k, visit)
		}
	case []any:
		for i, w := range v {
			walkSchemas(w, fmt.Sprintf("%s/%d", at, i), visit)
		}
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

// sameSet reports whether the JSON list v holds exactly names, in any order.
func sameSet(v any, names ...string) bool {
	var got []string
	for _, n := range asList(v) {
		got = append(got, n.(string))
	}
	slices.Sort(got)
	slices.Sort(names)
	return slices.Equal(got, names)
}
