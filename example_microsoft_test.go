package pbxauth_test

import (
	"context"
	"encoding/hex"
	"log"
	"os"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// A tenant whose users sign in with their Microsoft Entra ID accounts,
// its client secret sealed at rest under the encryption key.
func ExampleAuth_CreateTenant() {
	key, err := hex.DecodeString(os.Getenv("PBX_ENCRYPTION_KEY")) // 32 bytes, kept apart from the database
	if err != nil {
		log.Fatal(err)
	}
	a, err := pbxauth.New(pbxauth.Config{
		Store:          memstore.New(),
		EncryptionKeys: [][]byte{key},
		// The redirect URI to register is PublicURL + "/auth/sign_in/microsoft/callback".
		PublicURL: "https://pbx.example.com:8887/api",
		// Where POST /auth/sign_in/microsoft may send the browser with its token.
		CallbackOrigins: []string{"https://app.example.com"},
		// Where POST /login/by_microsoft ends, signed in by cookie.
		LoginRedirect: "/",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// Seal what an earlier version kept as given.
	if _, err := a.SealTenantSecrets(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = a.CreateTenant(ctx, pbxauth.TenantSettings{
		Name: "Acme", Domain: "acme.example.com",
		MS365: &store.MS365{
			ApplicationID: "11111111-2222-3333-4444-555555555555", // Application (client) ID
			DirectoryID:   "66666666-7777-8888-9999-000000000000", // Directory (tenant) ID
			ClientSecret:  os.Getenv("ACME_ENTRA_CLIENT_SECRET"),
			NationalCloud: "GLOBAL", // or "CHINA"
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = a.Handler() // mounted under /api as in the package example
}
