package pbxauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// Operating pbxauth from Go: a tenant and its first users on an empty store,
// a refused user, and what an admin tool does later.
func Example_operate() {
	ctx := context.Background()
	a, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), Roles: []string{"NightShift"}})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	if _, err := a.CreateTenant(ctx, pbxauth.TenantSettings{Name: "Acme", Domain: "acme.example.test"}); err != nil {
		log.Fatal(err)
	}

	carol, err := a.CreateUser(ctx, pbxauth.NewUser{Domain: "acme.example.test", Username: "carol",
		Password: "carol-pw-123", Email: "carol@acme.example.test", Role: pbxauth.RoleAdmin})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", carol.Username, carol.Role)

	// Validated exactly as the API validates: this role is nobody's.
	_, err = a.CreateUser(ctx, pbxauth.NewUser{Domain: "acme.example.test", Username: "dan", Password: "dan-pw-1234", Role: "Typo"})
	fmt.Println(errors.Is(err, store.ErrInvalid))

	// Later: a forgotten password, and a lost phone.
	if err := a.SetPassword(ctx, carol.ID, "carol-pw-456", true); err != nil { // every sign-in ends
		log.Fatal(err)
	}
	n, err := a.SignOutEverywhere(ctx, carol.ID)
	fmt.Println(n, err)
	if err := a.Unlock(ctx, "acme.example.test", "carol"); err != nil {
		log.Fatal(err)
	}

	// Every user of the tenant, a page at a time.
	for after := ""; ; {
		users, next, err := a.Users(ctx, "acme.example.test", after, 100)
		if err != nil {
			log.Fatal(err)
		}
		for _, u := range users {
			fmt.Println(u.Username, u.Role, u.Disabled)
		}
		if next == "" {
			break
		}
		after = next
	}
	// Output:
	// created carol Admin
	// true
	// 0 <nil>
	// carol Admin false
}
