package offline

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	bolt "go.etcd.io/bbolt"
)

// maxReported caps the problems one check reports: the first few say what
// is wrong, a thousand would bury them.
const maxReported = 10

// checkTx runs bbolt's consistency check, over the whole file or, with
// bolt.WithPageId, over the tree below one page.
func checkTx(tx *bolt.Tx, opts ...bolt.CheckOption) error {
	var errs []error
	for err := range tx.Check(opts...) {
		// Keep draining: the checker goroutine blocks until the channel is
		// read to the end.
		if len(errs) < maxReported {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// criticalBuckets are the buckets the start-up check reads in full: what a
// restart needs (schema, token, order numbers, the reconciler's work list,
// the counts every write changes), and none of them grows with the number
// of finished orders.
func criticalBuckets() []string {
	return []string{bucketMeta, bucketToken, bucketSequence, bucketUnfinished, bucketStateCounts}
}

// checkCritical is the start-up check (see Open): the tree of top-level
// buckets, then bbolt's page check of each critical bucket's own tree. It
// must run with no writer active, which holds inside Open.
func (s *Store) checkCritical(tx *bolt.Tx) error {
	pageSize := int64(s.db.Info().PageSize)
	highWater := uint64(tx.Size() / pageSize)

	// bbolt's check from the root page would recurse into every bucket,
	// i.e. read the whole file; so the root tree is walked here. Reading
	// it already made bbolt verify each page's id; what remains is key
	// order and that each bucket's root lies inside the file.
	var prev []byte
	c := tx.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			return fmt.Errorf("top-level key %q is not a bucket", k)
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("top-level buckets out of order at %q", k)
		}
		prev = append(prev[:0], k...)
		b := tx.Bucket(k)
		if b == nil {
			return fmt.Errorf("top-level bucket %q unreadable", k)
		}
		if root := uint64(b.RootPage()); root != 0 && (root < 2 || root >= highWater) {
			return fmt.Errorf("bucket %q: root page %d outside the file's pages [2, %d)", k, root, highWater)
		}
	}

	for _, name := range criticalBuckets() {
		root := uint64(tx.Bucket([]byte(name)).RootPage())
		if root == 0 {
			continue // inline: stored inside the root page just walked
		}
		if err := checkTx(tx, bolt.WithPageId(root)); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

// CheckAll checks the whole file, for `kioskctl db check`: bbolt's
// consistency check of every page, then that every order record decodes
// and is valid (known kind, state and outcome, no outcome on a refund, a
// yyyyMMdd day, …), that orders_by_created and unfinished hold exactly one
// entry per order they should, that state_counts holds the number of
// orders of each state, that each payment's pending refunds and refunded
// amount agree with its refund orders (checkRefunds), and that offline_day
// counts at least the payments accepted offline on each day
// (checkOfflineDays). Damage is reported wrapping ErrCorrupt; the file is
// never changed.
//
// It reads the whole file and decodes every order: about ten seconds per
// million orders on a small machine (measured on 2 vCPUs: 0.4-0.8 s of it
// bbolt's page check with the file in the page cache, the rest decoding).
// bbolt's part runs in a write transaction, as bbolt requires when other
// goroutines may commit meanwhile (it reads the list of free pages, which a
// commit changes), so writers wait for that part: run it from kioskctl, or
// when the kiosk is idle. ctx is honoured before and between the parts and
// during the order pass; bbolt's part, once started, runs to its end.
func (s *Store) CheckAll(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkPages(); err != nil {
		return fmt.Errorf("offline: check %s: %w: %w", s.path, ErrCorrupt, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkIndexes(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return err
		}
		if errors.Is(err, ErrCorrupt) {
			return fmt.Errorf("offline: check %s: %w", s.path, err)
		}
		return fmt.Errorf("offline: check %s: %w: %w", s.path, ErrCorrupt, err)
	}
	return nil
}

// checkPages runs bbolt's full check in a write transaction that is rolled
// back.
func (s *Store) checkPages() error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return checkTx(tx)
}

// checkIndexes is CheckAll's second part: every order decodes, and the
// indexes and counts hold exactly the entries the orders call for. Counting is enough
// to prove "exactly": every order's entry is present, entries are distinct
// keys, and there are as many entries as orders that need one.
func (s *Store) checkIndexes(ctx context.Context) error {
	var errs []error
	report := func(err error) {
		if len(errs) < maxReported {
			errs = append(errs, err)
		}
	}
	err := s.view(func(tx *bolt.Tx) error {
		orders := tx.Bucket([]byte(bucketOrders))
		byCreated := tx.Bucket([]byte(bucketOrdersByCreated))
		unfinished := tx.Bucket([]byte(bucketUnfinished))
		var nOrders, nUnfinished, nBad int
		refunds := map[string]refundFacts{}
		payments := map[string]paymentFacts{}
		acceptedOffline := map[string]money.Fen{}
		states := map[agent.OrderState]uint64{}
		err := orders.ForEach(func(k, v []byte) error {
			if nOrders%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			nOrders++
			o, err := decodeOrder(v)
			if err != nil {
				nBad++
				report(fmt.Errorf("order %q: %w", k, err))
				return nil
			}
			if o.OrderNo != string(k) {
				report(fmt.Errorf("%w: record stored under %q says %q", ErrBadRecord, k, o.OrderNo))
			}
			states[o.State]++
			if !has(byCreated, createdKey(o.Created, o.OrderNo)) {
				report(fmt.Errorf("order %q is missing from %s", o.OrderNo, bucketOrdersByCreated))
			}
			switch {
			case o.Kind == agent.KindRefund:
				refunds[o.OrderNo] = refundFacts{of: o.RefundOf, state: o.State, amount: o.Amount}
			case o.Refunded > 0 || len(o.PendingRefunds) > 0:
				payments[o.OrderNo] = paymentFacts{amount: o.Amount, refunded: o.Refunded,
					pending: o.PendingRefunds, creditedOnUpgrade: slices.ContainsFunc(o.History,
						func(h agent.Transition) bool { return strings.HasPrefix(h.Note, noteCreditedOnUpgrade) })}
			}
			if o.Kind == agent.KindPay && o.Outcome.Kind == agent.OutcomeRecorded && o.Day != "" {
				acceptedOffline[string(offlineDayKey(o.Day, o.Account))] += o.Amount
			}
			if o.State.Unfinished() {
				nUnfinished++
				if !has(unfinished, unfinishedKey(o.NextAttempt, o.OrderNo)) {
					report(fmt.Errorf("order %q (%s, next attempt %s) is missing from the %s index",
						o.OrderNo, o.State, o.NextAttempt.Format("2006-01-02T15:04:05.999999999Z07:00"), bucketUnfinished))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		// A record that does not decode may or may not need index
		// entries; the counts cannot be compared then.
		if nBad > 0 {
			return nil
		}
		if n := byCreated.Stats().KeyN; n != nOrders {
			report(fmt.Errorf("%s has %d entries for %d orders", bucketOrdersByCreated, n, nOrders))
		}
		if n := unfinished.Stats().KeyN; n != nUnfinished {
			report(fmt.Errorf("%s index has %d entries for %d unfinished orders", bucketUnfinished, n, nUnfinished))
		}
		checkCounts(tx.Bucket([]byte(bucketStateCounts)), states, report)
		checkRefunds(orders, refunds, payments, report)
		checkOfflineDays(tx.Bucket([]byte(bucketOfflineDay)), acceptedOffline, report)
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// has reports whether b holds key. bbolt's Get cannot tell a missing key
// from an empty value inside a write transaction, and index values are
// empty.
func has(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key)
}

// refundFacts is what checkRefunds needs of a refund order.
type refundFacts struct {
	of     string
	state  agent.OrderState
	amount money.Fen
}

// paymentFacts is what checkRefunds needs of a payment with pending refunds
// or a refunded amount (those without are not kept: a journal holds
// millions of them).
type paymentFacts struct {
	amount, refunded  money.Fen
	pending           []string
	creditedOnUpgrade bool
}

// checkRefunds checks schema 3's bookkeeping of refunds, which the agent
// keeps in the transactions that create and settle them: a payment's
// PendingRefunds are exactly its refund orders not yet confirmed or
// declined, and its Refunded is what its confirmed (paid) refund orders
// sum to. A refund of a payment the journal does not hold (schema 1 or 2
// could record one) is not checked.
func checkRefunds(orders *bolt.Bucket, refunds map[string]refundFacts, payments map[string]paymentFacts, report func(error)) {
	paid := map[string]money.Fen{}
	for _, no := range slices.Sorted(maps.Keys(refunds)) {
		r := refunds[no]
		switch r.state {
		case agent.StatePaid:
			paid[r.of] += r.amount
		case agent.StateSending, agent.StateUnknown, agent.StateNeedsReview:
			if !slices.Contains(payments[r.of].pending, no) && has(orders, []byte(r.of)) {
				report(fmt.Errorf("refund %q (%s) is missing from the pending refunds of payment %q: "+
					"another refund of the payment could start while it may have gone through", no, r.state, r.of))
			}
		}
	}
	for _, no := range slices.Sorted(maps.Keys(payments)) {
		for _, rno := range payments[no].pending {
			r, ok := refunds[rno]
			switch {
			case !ok && has(orders, []byte(rno)):
				report(fmt.Errorf("payment %q lists %q as a pending refund, but that order is not a refund", no, rno))
			case !ok:
				report(fmt.Errorf("payment %q lists %q as a pending refund, but there is no such order", no, rno))
			case r.of != no:
				report(fmt.Errorf("payment %q lists %q as a pending refund, but that is a refund of %q", no, rno, r.of))
			case r.state == agent.StatePaid || r.state == agent.StateDeclined:
				report(fmt.Errorf("payment %q lists %q as a pending refund, but that refund is %s", no, rno, r.state))
			}
		}
	}
	for _, no := range sortedKeys(payments, paid) {
		p, kept := payments[no]
		if !kept && !has(orders, []byte(no)) {
			continue
		}
		// The upgrade to schema 3 credits at most the payment's amount
		// when more was confirmed (and says so in LastError): Refunded
		// cannot exceed Amount.
		if p.refunded == paid[no] || (p.creditedOnUpgrade && paid[no] > p.amount && p.refunded == p.amount) {
			continue
		}
		report(fmt.Errorf("payment %q has %d fen refunded, but its confirmed (paid) refund orders sum to %d fen",
			no, p.refunded, paid[no]))
	}
}

// checkOfflineDays checks offline_day against accepted, what the payments
// told "recorded" (accepted offline) sum to per offline_day key: each was
// counted on its Day when it was accepted, and the figure never goes down,
// so less than that would let a card past its daily offline limit. More is
// not damage: a payment sent back to offline_accepted by a review counts
// again, and one journalled before schema 4 has no Day to check it by.
func checkOfflineDays(b *bolt.Bucket, accepted map[string]money.Fen, report func(error)) {
	for _, key := range slices.Sorted(maps.Keys(accepted)) {
		day, account := key[:len(dayLayout)], key[len(dayLayout):]
		stored, err := fenValue(b.Get([]byte(key)))
		switch {
		case err != nil:
			report(fmt.Errorf("%s entry of day %s, account %q: %w", bucketOfflineDay, day, account, err))
		case stored < accepted[key]:
			report(fmt.Errorf("%s has %d fen accepted offline for account %q on %s, its payments accepted offline sum to %d fen",
				bucketOfflineDay, stored, account, day, accepted[key]))
		}
	}
}

// sortedKeys returns the keys of a and of b, each once, sorted.
func sortedKeys[K cmp.Ordered, A, B any](a map[K]A, b map[K]B) []K {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
