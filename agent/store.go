package agent

import (
	"context"
	"time"
)

// Clock is the agent's only source of the current time, so that tests and the
// simulator can move it.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the machine's clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Token is the platform access token as the agent keeps it between runs.
type Token struct {
	// Value is the secret token text. Never log or print it.
	Value string
	// Expires is when the platform stops accepting Value.
	Expires time.Time
	// LastCall is when the token method was last called by anyone sharing
	// this store, successful or not: the platform allows one call per two
	// minutes and a call may have succeeded even when its reply was lost.
	LastCall time.Time
}

// TokenStore persists the access token so that every process sharing an
// app_key (kiosk restarts, one kioskctl run after another) reuses one token
// instead of voiding it with a new one.
type TokenStore interface {
	// LoadToken returns the stored token; ok is false when none was stored.
	LoadToken(ctx context.Context) (tok Token, ok bool, err error)
	// SaveToken replaces the stored token.
	SaveToken(ctx context.Context, tok Token) error
}
