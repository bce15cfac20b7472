package authn

import "errors"

// ErrInvalidToken is wrapped by every refusal of a presented credential,
// JWT or API key.
var ErrInvalidToken = errors.New("invalid token")

// TokenError is why a presented credential was refused. It wraps
// [ErrInvalidToken] and Err.
type TokenError struct {
	// Description is fixed text, safe to send to the client as the
	// error_description of RFC 6750 §3.
	Description string
	// Err is the underlying cause, if any, for logs. It may name keys or
	// claims, and is never sent to the client.
	Err error
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return "invalid token: " + e.Description + ": " + e.Err.Error()
	}
	return "invalid token: " + e.Description
}

// Unwrap returns ErrInvalidToken and the cause.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidToken}
	}
	return []error{ErrInvalidToken, e.Err}
}

// refuse returns a TokenError.
func refuse(description string, cause error) error {
	return &TokenError{Description: description, Err: cause}
}
