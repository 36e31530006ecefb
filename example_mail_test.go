package pbxauth_test

import (
	"fmt"
	"log"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
)

// A host mails codes and reset links through its SMTP server, and stops the
// background mail sender when it shuts down.
func ExampleParseSMTP() {
	m, err := pbxauth.ParseSMTP("smtp://user:pass@mail.example.com", "PBX <pbx@example.com>")
	if err != nil {
		log.Fatal(err)
	}
	a, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), Mailer: m, CallbackOrigins: []string{"https://app.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close() // stops the background mail sender
	fmt.Println(m.Host, m.Security == pbxauth.SMTPStartTLS)
	// Output: mail.example.com true
}
