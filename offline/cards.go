package offline

import (
	"context"
	"errors"
	"fmt"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// SaveCard durably caches a card seen online under the identity it was
// looked up by. Only sha256(idType + "\x00" + id) is stored as the key, never
// id itself. The hash hides the id from a casual look at the file, not from
// someone who tries every possible card number: keep the file private.
func (s *Store) SaveCard(ctx context.Context, c agent.CachedCard, ids ...agent.Identity) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return errors.New("offline: save card: no identity to save it under")
	}
	for _, id := range ids {
		if id.ID == "" {
			return errors.New("offline: save card: empty card id")
		}
	}
	raw, err := encodeCard(c)
	if err != nil {
		return fmt.Errorf("offline: save card: %w", err)
	}
	if err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketCards))
		for _, id := range ids {
			if err := b.Put(cardKey(id.Type, id.ID), raw); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("offline: save card of account %q to %s: %w", c.Account, s.path, err)
	}
	return nil
}

// Card returns the card cached for an identity; ok is false if none is.
// Errors never include the id.
func (s *Store) Card(ctx context.Context, idType, id string) (c agent.CachedCard, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return agent.CachedCard{}, false, err
	}
	err = s.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketCards)).Get(cardKey(idType, id))
		if raw == nil {
			return nil
		}
		var err error
		c, err = decodeCard(raw)
		ok = err == nil
		return err
	})
	if err != nil {
		return agent.CachedCard{}, false, fmt.Errorf("offline: cached card (id type %q) in %s: %w", idType, s.path, err)
	}
	return c, ok, nil
}

// SaveBillReport durably keeps a bill reconciliation report, replacing the
// one of the same date.
func (s *Store) SaveBillReport(ctx context.Context, r agent.BillReport) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := encodeBillReport(r)
	if err != nil {
		return fmt.Errorf("offline: save bill report: %w", err)
	}
	if err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketBillReports)).Put([]byte(r.Date), raw)
	}); err != nil {
		return fmt.Errorf("offline: save bill report of %s to %s: %w", r.Date, s.path, err)
	}
	return nil
}

// BillReport returns the report saved for a date (yyyyMMdd); ok is false if
// there is none.
func (s *Store) BillReport(ctx context.Context, date string) (r agent.BillReport, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return agent.BillReport{}, false, err
	}
	if err := validDay(date); err != nil {
		return agent.BillReport{}, false, fmt.Errorf("offline: bill report: %w", err)
	}
	err = s.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketBillReports)).Get([]byte(date))
		if raw == nil {
			return nil
		}
		var err error
		r, err = decodeBillReport(raw)
		ok = err == nil
		return err
	})
	if err != nil {
		return agent.BillReport{}, false, fmt.Errorf("offline: bill report of %s in %s: %w", date, s.path, err)
	}
	return r, ok, nil
}
