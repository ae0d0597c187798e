package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// keyPINState holds the diagnostics PIN's lockout (agent.PINState) in the
// meta bucket: one small record, kept across restarts so that turning the
// kiosk off and on gives a guesser no fresh count.
const keyPINState = "pin_state"

// pinStateRecord is the on-disk form of agent.PINState.
type pinStateRecord struct {
	Failures    int       `json:"failures,omitempty"`
	Lockouts    int       `json:"lockouts,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

func encodePINState(st agent.PINState) ([]byte, error) {
	if st.Failures < 0 || st.Lockouts < 0 {
		return nil, fmt.Errorf("negative PIN counts (%d failures, %d lockouts)", st.Failures, st.Lockouts)
	}
	b, err := json.Marshal(pinStateRecord{Failures: st.Failures, Lockouts: st.Lockouts, LockedUntil: st.LockedUntil.UTC()})
	if err != nil {
		return nil, fmt.Errorf("PIN lockout time out of range: %w", err)
	}
	return b, nil
}

// decodePINState reads a stored PIN lockout; it never panics and wraps
// ErrBadRecord for anything but one valid record.
func decodePINState(b []byte) (agent.PINState, error) {
	var rec pinStateRecord
	if err := decodeStrict(b, &rec); err != nil {
		return agent.PINState{}, fmt.Errorf("%w: PIN lockout: %w", ErrBadRecord, err)
	}
	if rec.Failures < 0 || rec.Lockouts < 0 {
		return agent.PINState{}, fmt.Errorf("%w: PIN lockout: negative counts", ErrBadRecord)
	}
	return agent.PINState{Failures: rec.Failures, Lockouts: rec.Lockouts, LockedUntil: rec.LockedUntil.UTC()}, nil
}

// PINState returns the diagnostics PIN's lockout (agent.PINStore); the
// zero state when none was saved.
func (s *Store) PINState(ctx context.Context) (agent.PINState, error) {
	if err := ctx.Err(); err != nil {
		return agent.PINState{}, err
	}
	var st agent.PINState
	err := s.view(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketMeta)).Get([]byte(keyPINState))
		if raw == nil {
			return nil
		}
		var err error
		st, err = decodePINState(raw)
		return err
	})
	if err != nil {
		return agent.PINState{}, fmt.Errorf("offline: PIN lockout in %s: %w", s.path, err)
	}
	return st, nil
}

// SavePINState durably replaces the diagnostics PIN's lockout
// (agent.PINStore).
func (s *Store) SavePINState(ctx context.Context, st agent.PINState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := encodePINState(st)
	if err != nil {
		return fmt.Errorf("offline: save PIN lockout: %w", err)
	}
	if err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keyPINState), raw)
	}); err != nil {
		return fmt.Errorf("offline: save PIN lockout to %s: %w", s.path, err)
	}
	return nil
}
