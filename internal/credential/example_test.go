package credential_test

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"google.golang.org/grpc/metadata"

	"github.com/toolwire/toolwire/internal/credential"
)

// The demo's flow: one ephemeral key pair, the edge minting per call, a
// backend verifying.
func Example() {
	pub, priv, err := credential.GenerateKey()
	if err != nil {
		panic(err)
	}
	minter, _ := credential.NewMinter(priv, nil)
	verifier, _ := credential.NewVerifier([]ed25519.PublicKey{pub}, []string{"search"}, nil)

	// Edge: mint for the backend the call goes to.
	ctx, err := minter.OutgoingContext(context.Background(), "search",
		credential.Principal{Subject: "alice", Scopes: []string{"search:read"}})
	if err != nil {
		panic(err)
	}

	// Backend: what arrives as incoming metadata.
	md, _ := metadata.FromOutgoingContext(ctx)
	claims, err := verifier.VerifyIncoming(metadata.NewIncomingContext(context.Background(), md))
	fmt.Println(claims.Subject, claims.Scopes, claims.Audience, err)
	// Output: alice [search:read] search <nil>
}
