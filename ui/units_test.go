package ui

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

func TestEditAmount(t *testing.T) {
	type step struct{ keys, want string }
	for _, s := range []step{
		{"12.5", "12.5"},
		{"12.505", "12.50"}, // a third decimal is not taken
		{"..5", "0.5"},      // one point; a leading point gets its zero
		{"007", "7"},        // no leading zeros
		{"1234567", "12345"},
		{"12.", "12."},
		{"12.d", "12"},
		{"12c3", "3"},
		{"d", ""},
	} {
		got := ""
		for _, r := range s.keys {
			key := string(r)
			switch r {
			case 'd':
				key = "del"
			case 'c':
				key = "clear"
			}
			got = editAmount(got, key)
		}
		assert.Equal(t, s.want, got, s.keys)
	}
	f, ok := parseEntry("12.")
	assert.True(t, ok)
	assert.Equal(t, money.Fen(12_00), f)
	for _, bad := range []string{"", "0", "0.00", "0."} {
		_, ok := parseEntry(bad)
		assert.False(t, ok, bad)
	}
}

func TestMasking(t *testing.T) {
	assert.Equal(t, "**0001", agent.MaskAccount("100001"))
	assert.Equal(t, "0001", agent.MaskAccount("0001"))
	assert.Equal(t, "******5678", agent.MaskAccount("1234565678"))
}

// The screen shows the card agent.CardLookup.Choose picks, masked, with
// its refusal in the customer's words.
func TestCardFromLookup(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	lost := agent.Card{Account: "100004", Name: "赵六", Lost: true, Balance: 50_00}
	good := agent.Card{Account: "100006", Name: "赵六", Balance: 200_00}
	c := cardFromLookup(agent.CardLookup{Cards: []agent.Card{lost, good}}, now)
	assert.Equal(t, cardInfo{account: "100006", name: "赵*", balance: 200_00}, c, "the card that can pay")
	assert.Equal(t, mRefusedLost, cardFromLookup(agent.CardLookup{Cards: []agent.Card{lost}}, now).refusal)
	old := good
	old.Expires = "20261126"
	assert.Equal(t, mRefusedExpiry, cardFromLookup(agent.CardLookup{Cards: []agent.Card{old}}, now).refusal)
	assert.Equal(t, cardInfo{refusal: mNotFound}, cardFromLookup(agent.CardLookup{}, now), "no card: nothing to charge")
	c = cardFromLookup(agent.CardLookup{Cards: []agent.Card{{Account: "100001", Name: "张*", Frozen: true, Cached: true}}}, now)
	assert.True(t, c.cached)
	assert.Equal(t, mRefusedFrozen, c.refusal)
}

func TestPayOutcomeWording(t *testing.T) {
	told := func(kind agent.OutcomeKind, reason string) agent.Order {
		return agent.Order{OrderNo: "1", Outcome: agent.Outcome{Kind: kind, Reason: reason}, Code: reason}
	}
	paidOrder := told(agent.OutcomePaid, "")
	paidOrder.OutID = "T1"
	k := &Kiosk{tx: newTexts(langEN)}
	card := cardInfo{account: "100001", name: "张*", balance: 100_00}
	paid := k.payOutcome(paidOrder, nil, card, 12_00)
	assert.Equal(t, ResultPaid, paid.result)
	assert.Equal(t, []string{"Transaction: T1", "Balance now: ¥88.00"}, paid.lines)

	cached := card
	cached.cached = true
	assert.Equal(t, []string{"Transaction: T1"},
		k.payOutcome(paidOrder, nil, cached, 12_00).lines,
		"no new balance from a balance last seen offline")

	unknown := k.payOutcome(told(agent.OutcomeWillConfirm, ""), agent.ErrOutcomeUnknown, card, 1)
	assert.Equal(t, ResultUnknown, unknown.result)
	assert.Equal(t, "Will be confirmed", unknown.title)

	declined := k.payOutcome(told(agent.OutcomeDeclined, "60099"),
		&agent.Declined{Code: "60099", Message: "商户已停用"}, card, 1)
	assert.Equal(t, "Declined: 商户已停用", declined.title, "the platform's own words when the code is not known")

	voided := k.payOutcome(told(agent.OutcomeNotCharged, ""), agent.ErrPlatformUnreachable, card, 1)
	assert.Equal(t, ResultNotCharged, voided.result)
	assert.Equal(t, "Not charged: the platform cannot be reached", voided.title)

	refused := k.payOutcome(agent.Order{}, &agent.OfflineRefusal{Reason: "this card has not been seen online on this terminal"}, card, 1)
	assert.Equal(t, ResultOfflineRefused, refused.result, "refused, and the refusal could not be journalled")
	refused = k.payOutcome(told(agent.OutcomeRefusedOffline, agent.OfflineUnseen), &agent.OfflineRefusal{Code: agent.OfflineUnseen}, card, 1)
	assert.Equal(t, ResultOfflineRefused, refused.result)
	sending := k.payOutcome(agent.Order{OrderNo: "1", State: agent.StateSending}, errors.New("journal full"), card, 1)
	assert.Equal(t, ResultUnknown, sending.result, "journalled, outcome not: will be confirmed")

	k.tx = newTexts(langZH)
	declined = k.payOutcome(told(agent.OutcomeDeclined, "60013"), &agent.Declined{Code: "60013"}, card, 1)
	assert.Equal(t, "支付失败：账户已冻结", declined.title)
}

// Diagnostics words every order state, bill match and settlement state in
// both languages, never as the identifier (which only a developer reads).
func TestEveryStateBillMatchAndSettlementIsNamed(t *testing.T) {
	for _, lang := range []string{langZH, langEN} {
		tx := newTexts(lang)
		for _, s := range agent.States() {
			assert.True(t, tx.has(msg("state."+string(s))), "%s: state %s", lang, s)
		}
		for _, m := range agent.BillMatches() {
			assert.True(t, tx.has(msg("bill."+string(m))), "%s: bill match %s", lang, m)
		}
		// The agent has no list of them, as it has of the others.
		for _, s := range []agent.SettlementState{agent.SettlementDone, agent.SettlementFailed, agent.SettlementPending} {
			assert.True(t, tx.has(msg("settlement."+string(s))), "%s: settlement state %s", lang, s)
		}
		assert.Equal(t, "mystery", tx.named("state", "mystery"), "an unknown one shows as itself")
	}
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	zh, en := catalogue(langZH), catalogue(langEN)
	for k := range zh {
		assert.Contains(t, en, k)
	}
	for k := range en {
		assert.Contains(t, zh, k)
	}
}
