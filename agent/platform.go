package agent

import (
	"context"
	"errors"
	"time"

	"github.com/campuspos/kiosk/agent/onecard"
)

// Platform is the protocol client with the token policy applied: every call
// carries a valid token, and a call refused with 40017 (token invalid) gets
// one fresh token and one retry. The retry is safe for payments too: 40017
// comes from the system layer, before the business layer sees the order.
type Platform struct {
	client *onecard.Client
	tokens *TokenManager
}

// NewPlatform joins a protocol client and a token store into a Platform.
func NewPlatform(client *onecard.Client, store TokenStore, clock Clock) *Platform {
	fetch := func(ctx context.Context) (string, time.Duration, error) {
		t, err := client.AccessToken(ctx)
		return t.Value, t.ExpiresIn, err
	}
	return &Platform{client: client, tokens: NewTokenManager(store, fetch, clock, TokenPolicy{})}
}

// Tokens exposes the token manager, for `kioskctl token`.
func (p *Platform) Tokens() *TokenManager { return p.tokens }

// withToken runs fn with a token, and once more with a fresh one if the
// platform says the token is invalid.
func (p *Platform) withToken(ctx context.Context, fn func(tok string) error) error {
	tok, err := p.tokens.Token(ctx)
	if err != nil {
		return err
	}
	err = fn(tok)
	var se *onecard.SystemError
	if !errors.As(err, &se) || !se.TokenInvalid() {
		return err
	}
	if tok, err = p.tokens.Invalidate(ctx, tok); err != nil {
		return err
	}
	return fn(tok)
}

// QueryCard looks up the cards of one identity.
func (p *Platform) QueryCard(ctx context.Context, q onecard.CardQuery) (cards []onecard.Card, err error) {
	err = p.withToken(ctx, func(tok string) error {
		cards, err = p.client.QueryCard(ctx, tok, q)
		return err
	})
	return cards, err
}

// Pay sends one payment.
func (p *Platform) Pay(ctx context.Context, r onecard.PayRequest) (res onecard.PayResult, err error) {
	err = p.withToken(ctx, func(tok string) error {
		res, err = p.client.Pay(ctx, tok, r)
		return err
	})
	return res, err
}

// Refund sends one refund.
func (p *Platform) Refund(ctx context.Context, r onecard.RefundRequest) (res onecard.RefundResult, err error) {
	err = p.withToken(ctx, func(tok string) error {
		res, err = p.client.Refund(ctx, tok, r)
		return err
	})
	return res, err
}

// QueryPayments asks pay.query about up to 50 orders.
func (p *Platform) QueryPayments(ctx context.Context, qs []onecard.PayQuery) (st []onecard.PayStatus, err error) {
	err = p.withToken(ctx, func(tok string) error {
		st, err = p.client.QueryPayments(ctx, tok, qs)
		return err
	})
	return st, err
}

// DownloadBill fetches and checks one day's bill.
func (p *Platform) DownloadBill(ctx context.Context, r onecard.BillRequest) (bill *onecard.Bill, text []byte, err error) {
	err = p.withToken(ctx, func(tok string) error {
		bill, text, err = p.client.DownloadBill(ctx, tok, r)
		return err
	})
	return bill, text, err
}
