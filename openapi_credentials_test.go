// This file holds what DESIGN.md lets openapi.json change of PortSIP's own
// text of the v22 operations around credentials
// (testdata/portsip-v22-credentials.json); TestOpenAPIKeepsPortSIPCredentials
// applies it before comparing.

package pbxauth_test

// widenCredentialOps applies to PortSIP's text what DESIGN.md lets pbxauth
// change: the password policy's max_length goes up to 256, and its defaults
// are pbxauth's (each schema property's default is not compared).
func widenCredentialOps(op jsonObject) {
	var schemas []any
	if rb, ok := op["requestBody"].(jsonObject); ok {
		schemas = append(schemas, rb["content"].(jsonObject)["application/json"].(jsonObject)["schema"])
	}
	if ok, _ := op["responses"].(jsonObject)["200"].(jsonObject); ok != nil {
		c, _ := ok["content"].(jsonObject)
		if j, _ := c["application/json"].(jsonObject); j != nil { // the certificate's is a file
			schemas = append(schemas, j["schema"])
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
