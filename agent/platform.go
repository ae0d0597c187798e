package agent

import (
	"context"
	"errors"
	"time"

	"github.com/campuspos/kiosk/agent/onecard"
)

// Platform is the one-card platform as the agent uses it: the six calls
// of the protocol with a valid access token on each. NewPlatform makes one
// from the protocol client; a test may bring its own. Errors are the
// protocol's (agent/onecard): the agent decides from them, and its own
// answers translate them into the agent's errors.
type Platform interface {
	// QueryCard looks up the cards of one identity.
	QueryCard(ctx context.Context, id Identity) ([]Card, error)
	// Pay sends one payment.
	Pay(ctx context.Context, r onecard.PayRequest) (onecard.PayResult, error)
	// Refund sends one refund.
	Refund(ctx context.Context, r onecard.RefundRequest) (onecard.RefundResult, error)
	// QueryPayments asks pay.query about up to 50 orders.
	QueryPayments(ctx context.Context, qs []onecard.PayQuery) ([]onecard.PayStatus, error)
	// DownloadBill fetches and checks one day's bill; text is the bill as
	// it came.
	DownloadBill(ctx context.Context, r onecard.BillRequest) (bill *onecard.Bill, text []byte, err error)
	// Tokens is the access-token policy the calls go through.
	Tokens() *TokenManager
	// ClockOffset is the platform's clock minus this terminal's, as the
	// latest reply showed it, and when; ok is false before any reply.
	ClockOffset() (offset time.Duration, at time.Time, ok bool)
}

// onecardPlatform adapts the protocol client to Platform, with the token
// policy applied: every call carries a valid token, and a call refused with
// 40017 (token invalid) gets one fresh token and one retry. The retry is
// safe for payments too: 40017 comes from the system layer, before the
// business layer sees the order.
type onecardPlatform struct {
	client *onecard.Client
	tokens *TokenManager
}

// NewPlatform joins a protocol client and a token store into a Platform.
func NewPlatform(client *onecard.Client, store TokenStore, clock Clock) Platform {
	fetch := func(ctx context.Context) (string, time.Duration, error) {
		t, err := client.AccessToken(ctx)
		return t.Value, t.ExpiresIn, err
	}
	return &onecardPlatform{client: client, tokens: NewTokenManager(store, fetch, clock, TokenPolicy{})}
}

func (p *onecardPlatform) Tokens() *TokenManager { return p.tokens }

func (p *onecardPlatform) ClockOffset() (time.Duration, time.Time, bool) {
	return p.client.ClockOffset()
}

// withToken runs fn with a token, and once more with a fresh one if the
// platform says the token is invalid.
func (p *onecardPlatform) withToken(ctx context.Context, fn func(tok string) error) error {
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

func (p *onecardPlatform) QueryCard(ctx context.Context, id Identity) (cards []Card, err error) {
	var found []onecard.Card
	err = p.withToken(ctx, func(tok string) error {
		found, err = p.client.QueryCard(ctx, tok, onecard.CardQuery{IDType: id.Type, ID: id.ID})
		return err
	})
	for _, c := range found {
		cards = append(cards, cardOf(c))
	}
	return cards, err
}

// cardOf is the terminal's view of a card the platform described.
func cardOf(c onecard.Card) Card {
	return Card{
		Account: c.Account, Name: c.Name, Balance: c.Balance, Unsettled: c.UnsettleAmount,
		Lost: c.Lost, Frozen: c.Frozen, Expires: c.ExpDate, CardType: c.CardType, CardName: c.CardName,
		BarcodeEnabled: c.BarcodeEnabled, SNo: c.SNo, Phone: c.Phone, Cert: c.Cert,
	}
}

func (p *onecardPlatform) Pay(ctx context.Context, r onecard.PayRequest) (res onecard.PayResult, err error) {
	err = p.withToken(ctx, func(tok string) error {
		res, err = p.client.Pay(ctx, tok, r)
		return err
	})
	return res, err
}

func (p *onecardPlatform) Refund(ctx context.Context, r onecard.RefundRequest) (res onecard.RefundResult, err error) {
	err = p.withToken(ctx, func(tok string) error {
		res, err = p.client.Refund(ctx, tok, r)
		return err
	})
	return res, err
}

func (p *onecardPlatform) QueryPayments(ctx context.Context, qs []onecard.PayQuery) (st []onecard.PayStatus, err error) {
	err = p.withToken(ctx, func(tok string) error {
		st, err = p.client.QueryPayments(ctx, tok, qs)
		return err
	})
	return st, err
}

func (p *onecardPlatform) DownloadBill(ctx context.Context, r onecard.BillRequest) (bill *onecard.Bill, text []byte, err error) {
	err = p.withToken(ctx, func(tok string) error {
		bill, text, err = p.client.DownloadBill(ctx, tok, r)
		return err
	})
	return bill, text, err
}

// CardPasswordChecker is a Platform that can check a card's query
// password (NewPlatform's can). Its error is the protocol's: the agent
// decides which retcodes mean a wrong password.
type CardPasswordChecker interface {
	// CheckCardPassword asks query.card for account (idtype "acc") with
	// pwd; nil means the platform accepted the password.
	CheckCardPassword(ctx context.Context, account, pwd string) error
}

func (p *onecardPlatform) CheckCardPassword(ctx context.Context, account, pwd string) error {
	return p.withToken(ctx, func(tok string) error {
		_, err := p.client.QueryCard(ctx, tok, onecard.CardQuery{IDType: "acc", ID: account, Password: pwd})
		return err
	})
}
