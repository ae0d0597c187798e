package offline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// The cards' wrong query passwords (agent.CardPasswordStore), in the meta
// bucket: the salt the cards are keyed by, made once, and one small record
// of the entries not yet expired, kept across restarts so that turning the
// kiosk off and on gives a guesser no fresh count. The accounts themselves
// are never stored, only HMACs of them under the salt.
const (
	keyCardPasswordSalt  = "card_password_salt"
	keyCardPasswordState = "card_password_state"
	cardPasswordSaltLen  = 32
	// maxCardPasswordEntries bounds the record whatever the clock does:
	// expired entries go on every save, and past this the entries that
	// expire soonest go first.
	maxCardPasswordEntries = 1000
)

// cardPasswordRecord is the on-disk form of one agent.CardPasswordState.
type cardPasswordRecord struct {
	Failures    int       `json:"failures,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	Expires     time.Time `json:"expires"`
}

// decodeCardPasswords reads the stored entries; it never panics and wraps
// ErrBadRecord for anything but one valid record.
func decodeCardPasswords(b []byte) (map[string]cardPasswordRecord, error) {
	var recs map[string]cardPasswordRecord
	if err := decodeStrict(b, &recs); err != nil {
		return nil, fmt.Errorf("%w: card password lockouts: %w", ErrBadRecord, err)
	}
	for k, r := range recs {
		if _, err := hex.DecodeString(k); err != nil || len(k) != 64 || r.Failures < 0 {
			return nil, fmt.Errorf("%w: card password lockouts: a bad entry", ErrBadRecord)
		}
	}
	return recs, nil
}

// CardPasswordSalt returns the salt cards are keyed by in the password
// lockouts, made and kept on first use (agent.CardPasswordStore).
func (s *Store) CardPasswordSalt(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var salt []byte
	err := s.view(func(tx *bolt.Tx) error {
		salt = append(salt, tx.Bucket([]byte(bucketMeta)).Get([]byte(keyCardPasswordSalt))...)
		return nil
	})
	if err == nil && len(salt) == cardPasswordSaltLen {
		return salt, nil
	}
	if err == nil && len(salt) != 0 {
		err = fmt.Errorf("%w: card password salt of %d bytes", ErrBadRecord, len(salt))
	}
	if err != nil {
		return nil, fmt.Errorf("offline: card password salt in %s: %w", s.path, err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		// Another process may have made it since the read.
		if got := meta.Get([]byte(keyCardPasswordSalt)); len(got) != 0 {
			salt = append(salt[:0], got...)
			return nil
		}
		salt = make([]byte, cardPasswordSaltLen)
		rand.Read(salt)
		return meta.Put([]byte(keyCardPasswordSalt), salt)
	})
	if err != nil {
		return nil, fmt.Errorf("offline: make card password salt in %s: %w", s.path, err)
	}
	return salt, nil
}

// cardPasswords reads the stored entries in tx.
func cardPasswords(tx *bolt.Tx) (map[string]cardPasswordRecord, error) {
	raw := tx.Bucket([]byte(bucketMeta)).Get([]byte(keyCardPasswordState))
	if raw == nil {
		return map[string]cardPasswordRecord{}, nil
	}
	return decodeCardPasswords(raw)
}

// CardPasswordStates returns the card password lockouts not expired at now
// (agent.CardPasswordStore).
func (s *Store) CardPasswordStates(ctx context.Context, now time.Time) (map[string]agent.CardPasswordState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]agent.CardPasswordState{}
	err := s.view(func(tx *bolt.Tx) error {
		recs, err := cardPasswords(tx)
		for k, r := range recs {
			if now.Before(r.Expires) {
				out[k] = agent.CardPasswordState{Failures: r.Failures, LockedUntil: r.LockedUntil, Expires: r.Expires}
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("offline: card password lockouts in %s: %w", s.path, err)
	}
	return out, nil
}

// SaveCardPasswordState durably replaces the lockout of key (the zero
// state removes it) and drops the entries expired at now
// (agent.CardPasswordStore). A record that cannot be read is replaced: the
// lockouts are a brake on guessing, not a ledger.
func (s *Store) SaveCardPasswordState(ctx context.Context, key string, st agent.CardPasswordState, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b, err := hex.DecodeString(key); err != nil || len(b) != 32 || st.Failures < 0 {
		return fmt.Errorf("offline: save card password lockout: bad key or count")
	}
	err := s.update(func(tx *bolt.Tx) error {
		recs, err := cardPasswords(tx)
		if err != nil {
			recs = map[string]cardPasswordRecord{}
		}
		for k, r := range recs {
			if !now.Before(r.Expires) {
				delete(recs, k)
			}
		}
		if st == (agent.CardPasswordState{}) {
			delete(recs, key)
		} else {
			recs[key] = cardPasswordRecord{Failures: st.Failures, LockedUntil: st.LockedUntil.UTC(), Expires: st.Expires.UTC()}
		}
		for len(recs) > maxCardPasswordEntries {
			var first string
			for k, r := range recs {
				if first == "" || r.Expires.Before(recs[first].Expires) {
					first = k
				}
			}
			delete(recs, first)
		}
		raw, err := json.Marshal(recs)
		if err != nil {
			return fmt.Errorf("card password lockout time out of range: %w", err)
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keyCardPasswordState), raw)
	})
	if err != nil {
		return fmt.Errorf("offline: save card password lockout to %s: %w", s.path, err)
	}
	return nil
}

var _ agent.CardPasswordStore = (*Store)(nil)
