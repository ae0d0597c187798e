package offline

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	bolt "go.etcd.io/bbolt"
)

// orderRecord is the on-disk form of agent.Order. The JSON names are the
// file format: renaming a Go field must not change them, and adding a field
// bumps SchemaVersion (decoding refuses unknown fields, so an older binary
// cannot silently drop what a newer one wrote).
type orderRecord struct {
	OrderNo   string    `json:"order_no"`
	Kind      string    `json:"kind"`
	RefundOf  string    `json:"refund_of,omitempty"`
	Account   string    `json:"account"`
	AccType   string    `json:"acctype"`
	MercAcc   string    `json:"mercacc"`
	TermID    string    `json:"termid"`
	AmountFen int64     `json:"amount_fen"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated,omitzero"`
	State     string    `json:"state"`
	OutID     string    `json:"out_id,omitempty"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
}

// maxOrderNoLen keeps the index key (8 bytes + order_no) within bbolt's
// key limit. The wire limit (32 bytes) is the protocol's business.
const maxOrderNoLen = bolt.MaxKeySize - 8

func validateOrder(o agent.Order) error {
	switch {
	case o.OrderNo == "":
		return errors.New("empty order number")
	case len(o.OrderNo) > maxOrderNoLen:
		return fmt.Errorf("order number of %d bytes is too long", len(o.OrderNo))
	case o.Kind != agent.KindPay && o.Kind != agent.KindRefund:
		return fmt.Errorf("unknown order kind %q", o.Kind)
	case o.Kind == agent.KindRefund && o.RefundOf == "":
		return errors.New("refund without the original order number")
	case o.Kind == agent.KindPay && o.RefundOf != "":
		return errors.New("payment with a refund_of order number")
	case o.State == "":
		return errors.New("empty order state")
	case o.Created.IsZero():
		return errors.New("no creation time")
	// UnixNano, which the index key uses, is only defined in this range.
	case o.Created.Before(time.Unix(0, math.MinInt64)) || o.Created.After(time.Unix(0, math.MaxInt64)):
		return fmt.Errorf("creation time %s out of range", o.Created.UTC().Format(time.RFC3339))
	}
	return nil
}

// encodeOrder validates o and returns its record. Times are stored in UTC:
// the zone is not part of an order, and UTC keeps records comparable.
func encodeOrder(o agent.Order) ([]byte, error) {
	if err := validateOrder(o); err != nil {
		return nil, fmt.Errorf("order %q: %w", o.OrderNo, err)
	}
	rec := orderRecord{
		OrderNo:   o.OrderNo,
		Kind:      string(o.Kind),
		RefundOf:  o.RefundOf,
		Account:   o.Account,
		AccType:   o.AccType,
		MercAcc:   o.MercAcc,
		TermID:    o.TermID,
		AmountFen: int64(o.Amount),
		Created:   o.Created.UTC(),
		Updated:   o.Updated.UTC(),
		State:     string(o.State),
		OutID:     o.OutID,
		Code:      o.Code,
		Message:   o.Message,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("order %q: %w", o.OrderNo, err)
	}
	return b, nil
}

// decodeOrder reads a stored order record. It never panics and wraps
// ErrBadRecord for anything but one well-formed record.
func decodeOrder(b []byte) (agent.Order, error) {
	var rec orderRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return agent.Order{}, fmt.Errorf("%w: order: %w", ErrBadRecord, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return agent.Order{}, fmt.Errorf("%w: order: data after the record", ErrBadRecord)
	}
	o := agent.Order{
		OrderNo:  rec.OrderNo,
		Kind:     agent.OrderKind(rec.Kind),
		RefundOf: rec.RefundOf,
		Account:  rec.Account,
		AccType:  rec.AccType,
		MercAcc:  rec.MercAcc,
		TermID:   rec.TermID,
		Amount:   money.Fen(rec.AmountFen),
		Created:  rec.Created.UTC(),
		Updated:  rec.Updated.UTC(),
		State:    agent.OrderState(rec.State),
		OutID:    rec.OutID,
		Code:     rec.Code,
		Message:  rec.Message,
	}
	if err := validateOrder(o); err != nil {
		return agent.Order{}, fmt.Errorf("%w: order %q: %w", ErrBadRecord, rec.OrderNo, err)
	}
	return o, nil
}

// createdKey is the orders_by_created key: the creation time as unix nanos
// with the sign bit flipped (so that big-endian byte order is time order,
// even before 1970), then the order number.
func createdKey(created time.Time, orderNo string) []byte {
	k := make([]byte, 8, 8+len(orderNo))
	binary.BigEndian.PutUint64(k, uint64(created.UnixNano())^(1<<63))
	return append(k, orderNo...)
}

// tokenRecord is the on-disk form of agent.Token.
type tokenRecord struct {
	Value    string    `json:"value"`
	Expires  time.Time `json:"expires,omitzero"`
	LastCall time.Time `json:"last_call,omitzero"`
}

func encodeToken(t agent.Token) ([]byte, error) {
	rec := tokenRecord{Value: t.Value, Expires: t.Expires.UTC(), LastCall: t.LastCall.UTC()}
	b, err := json.Marshal(rec)
	if err != nil {
		// Only a time outside years 0-9999 gets here; never echo the value.
		return nil, errors.New("token times out of range")
	}
	return b, nil
}

func decodeToken(b []byte) (agent.Token, error) {
	var rec tokenRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		// json errors can quote the input; the input holds the secret.
		return agent.Token{}, fmt.Errorf("%w: token record is not valid JSON", ErrBadRecord)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return agent.Token{}, fmt.Errorf("%w: data after the token record", ErrBadRecord)
	}
	return agent.Token{Value: rec.Value, Expires: rec.Expires.UTC(), LastCall: rec.LastCall.UTC()}, nil
}
