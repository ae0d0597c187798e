package offline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// exportBatch is how many orders ExportCSV reads per read transaction. A
// bbolt read transaction that stays open while a slow writer (a USB stick,
// a pipe) drains would hold up any commit that needs to grow the file's
// mapping, i.e. a payment; short transactions keep that wait short.
const exportBatch = 1000

// csvHeader is ExportCSV's first line.
func csvHeader() []string {
	return []string{
		"order_no", "kind", "refund_of", "state", "amount", "account", "acctype", "mercacc",
		"termid", "out_id", "code", "created", "updated", "attempts", "last_error",
	}
}

// ExportCSV writes the orders created in [from, to) to w as CSV, oldest
// first, after a header line (see csvHeader). A zero from or to leaves that
// end open. Amounts are yuan with two decimals; times are RFC 3339 in loc
// (the platform's zone; nil is UTC), updated is empty when never set. The
// account column is the one-card account in full: it is not a card number.
//
// The export is read in batches, each in its own transaction, so that it
// never holds up the kiosk's writes for long; an order created meanwhile
// inside the range may or may not appear, none appears twice.
func (s *Store) ExportCSV(ctx context.Context, w io.Writer, from, to time.Time, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader()); err != nil {
		return fmt.Errorf("offline: export orders: %w", err)
	}
	start := timeKey(from)
	end := timeKey(to)
	var last []byte // key of the last order written
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var batch []agent.Order
		err := s.view(func(tx *bolt.Tx) error {
			orders := tx.Bucket([]byte(bucketOrders))
			c := tx.Bucket([]byte(bucketOrdersByCreated)).Cursor()
			var k []byte
			if last == nil {
				k, _ = c.Seek(start[:])
			} else if k, _ = c.Seek(last); bytes.Equal(k, last) {
				k, _ = c.Next()
			}
			for ; k != nil && len(batch) < exportBatch; k, _ = c.Next() {
				if len(k) < 8 {
					return fmt.Errorf("%w: %s key of %d bytes", ErrCorrupt, bucketOrdersByCreated, len(k))
				}
				if !to.IsZero() && bytes.Compare(k[:8], end[:]) >= 0 {
					break
				}
				o, err := getOrder(orders, string(k[8:]))
				if errors.Is(err, agent.ErrOrderNotFound) {
					return fmt.Errorf("%w: %s names order %q, which does not exist",
						ErrCorrupt, bucketOrdersByCreated, k[8:])
				}
				if err != nil {
					return err
				}
				batch = append(batch, o)
				// k is only valid inside the transaction.
				last = append(last[:0], k...)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("offline: export orders from %s: %w", s.path, err)
		}
		for _, o := range batch {
			if err := cw.Write(csvRow(o, loc)); err != nil {
				return fmt.Errorf("offline: export orders: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("offline: export orders: %w", err)
		}
		if len(batch) < exportBatch {
			return nil
		}
	}
}

// csvRow is one order's ExportCSV line, in csvHeader's order, its times in
// loc.
func csvRow(o agent.Order, loc *time.Location) []string {
	updated := ""
	if !o.Updated.IsZero() {
		updated = o.Updated.In(loc).Format(time.RFC3339)
	}
	return []string{
		o.OrderNo, string(o.Kind), o.RefundOf, string(o.State), o.Amount.Yuan(),
		o.Account, o.AccType, o.MercAcc, o.TermID, o.OutID, o.Code,
		o.Created.In(loc).Format(time.RFC3339), updated,
		strconv.Itoa(o.Attempts), o.LastError,
	}
}
