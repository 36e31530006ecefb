package idpfault

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The provider is a provider go-oidc accepts: its discovery, and ID tokens
// it signs verified with the keys it serves. Discoveries are counted.
func TestProviderVerifies(t *testing.T) {
	p := Start(t)
	ctx := context.Background()
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if op.Endpoint().TokenURL != p.TokenEndpoint() || p.Discoveries() != 1 {
		t.Errorf("token endpoint %q, %d discoveries", op.Endpoint().TokenURL, p.Discoveries())
	}
	raw := p.IDToken(t, map[string]any{"iss": p.Issuer, "aud": "app", "sub": "s", "exp": time.Now().Add(time.Minute).Unix()})
	if _, err := op.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, raw); err != nil {
		t.Errorf("its own token: %v", err)
	}
	other := Start(t).IDToken(t, map[string]any{"iss": p.Issuer, "aud": "app", "sub": "s", "exp": time.Now().Add(time.Minute).Unix()})
	if _, err := op.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, other); err == nil {
		t.Error("a token signed by another provider's key verified")
	}
}

// A held discovery arrives, waits, and is answered once released.
func TestHold(t *testing.T) {
	p := Start(t)
	h := NewHold(Status(http.StatusTeapot, "text/plain", "held"))
	p.SetDiscovery(h)
	got := make(chan int)
	go func() {
		resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-h.Arrived()
	h.Release()
	if s := <-got; s != http.StatusTeapot {
		t.Errorf("status %d", s)
	}
}
