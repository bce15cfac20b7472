package server

import (
	"context"
	"errors"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolwire/toolwire/internal/credential"
)

// CredentialOptions configure the credential check of
// [CredentialAuthFunc]. A nil *CredentialOptions means defaults.
type CredentialOptions struct {
	// RequiredScopes, if not nil, returns the scopes a call to fullMethod
	// ("/package.Service/Method") needs: the credential must grant them all,
	// or the call fails with codes.PermissionDenied. Nil, or an empty
	// result, requires none.
	RequiredScopes func(fullMethod string) []string
}

// exemptPrefixes are the services served without a credential: health
// checks come from load balancers and orchestrators, and reflection from
// the edge's catalog and developer tools, none of which hold a credential.
// Neither reaches a tool's handler.
var exemptPrefixes = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// credentialExempt reports whether fullMethod is served without a
// credential.
func credentialExempt(fullMethod string) bool {
	for _, p := range exemptPrefixes {
		if strings.HasPrefix(fullMethod, p) {
			return true
		}
	}
	return false
}

// CredentialAuthFunc returns an [auth.AuthFunc], for go-grpc-middleware's
// auth interceptors, that requires every call to carry a credential the
// edge minted for this backend (see package internal/credential), in the
// gRPC metadata key credential.MetadataKey:
//
//   - without one, or with one v refuses, the call fails with
//     codes.Unauthenticated, and a message naming the reason;
//   - without the scopes [CredentialOptions.RequiredScopes] asks for, it
//     fails with codes.PermissionDenied;
//   - otherwise the handler's context carries the verified claims, for
//     credential.FromContext.
//
// Calls to the gRPC health and reflection services need no credential.
//
// As with any auth.AuthFunc, a service that implements
// auth.ServiceAuthFuncOverride decides for itself, and this check does not
// run for it.
func CredentialAuthFunc(v *credential.Verifier, opts *CredentialOptions) auth.AuthFunc {
	if opts == nil {
		opts = &CredentialOptions{}
	}
	required := opts.RequiredScopes
	return func(ctx context.Context) (context.Context, error) {
		// grpc.Method works for network and in-process calls alike. A call
		// without a method name is not exempt, and gets the scopes of "".
		method, _ := grpc.Method(ctx)
		if credentialExempt(method) {
			return ctx, nil
		}
		claims, err := v.VerifyIncoming(ctx)
		if err != nil {
			// The credential package's errors are fixed text, with nothing
			// of the token or the keys in them.
			if !errors.Is(err, credential.ErrMissing) && !errors.Is(err, credential.ErrInvalid) {
				err = credential.ErrInvalid
			}
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
		if required != nil {
			if missing := missingScopes(claims, required(method)); len(missing) > 0 {
				return nil, status.Errorf(codes.PermissionDenied, "missing scope: %s", strings.Join(missing, " "))
			}
		}
		return credential.NewContext(ctx, claims), nil
	}
}

// missingScopes returns the scopes in need that c does not grant.
func missingScopes(c *credential.Claims, need []string) []string {
	var missing []string
	for _, s := range need {
		if !c.HasScopes(s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// CredentialUnaryInterceptor is go-grpc-middleware's unary auth interceptor
// with [CredentialAuthFunc]. Install it through
// [Options.UnaryInterceptors], so that it runs after recovery and logging
// (a refused call is logged) and before validation (an unauthenticated
// caller learns nothing of the request rules).
func CredentialUnaryInterceptor(v *credential.Verifier, opts *CredentialOptions) grpc.UnaryServerInterceptor {
	return auth.UnaryServerInterceptor(CredentialAuthFunc(v, opts))
}

// CredentialStreamInterceptor is go-grpc-middleware's stream auth
// interceptor with [CredentialAuthFunc]; install it through
// [Options.StreamInterceptors], as [CredentialUnaryInterceptor].
func CredentialStreamInterceptor(v *credential.Verifier, opts *CredentialOptions) grpc.StreamServerInterceptor {
	return auth.StreamServerInterceptor(CredentialAuthFunc(v, opts))
}
