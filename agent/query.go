package agent

import (
	"context"
	"errors"

	"github.com/campuspos/kiosk/agent/onecard"
)

// QueryResult is the answer for one order number asked about.
type QueryResult struct {
	OrderNo string
	// Local is the journal's record; nil when the terminal does not know
	// the order.
	Local *Order
	// Status is the platform's answer; nil when the order was not sent
	// because the terminal knows no account for it.
	Status *onecard.PayStatus
}

// Query asks the platform about orders and reports, changing nothing:
// settling is the reconciler's job. Account and acctype come from the
// journal; for an order the terminal does not know, account (with acctype,
// default the terminal's) must be given, otherwise the order is reported as
// unknown locally and not sent: the platform is never asked with an empty
// account.
func (s *Service) Query(ctx context.Context, orderNos []string, account, accType string) ([]QueryResult, error) {
	if accType == "" {
		accType = s.opts.Terminal.AccType
	}
	results := make([]QueryResult, len(orderNos))
	var batch []onecard.PayQuery
	var at []int
	for i, no := range orderNos {
		results[i].OrderNo = no
		o, err := s.journal.Order(ctx, no)
		switch {
		case err == nil:
			results[i].Local = &o
			batch = append(batch, onecard.PayQuery{Account: o.Account, AccType: o.AccType, OrderNo: no})
			at = append(at, i)
		case errors.Is(err, ErrOrderNotFound) && account != "":
			batch = append(batch, onecard.PayQuery{Account: account, AccType: accType, OrderNo: no})
			at = append(at, i)
		case errors.Is(err, ErrOrderNotFound):
		default:
			return nil, err
		}
	}
	for start := 0; start < len(batch); start += onecard.MaxPayQueries {
		end := min(start+onecard.MaxPayQueries, len(batch))
		sts, err := s.platform.QueryPayments(ctx, batch[start:end])
		s.observe(err)
		if err != nil {
			return results, err
		}
		for j := range sts {
			results[at[start+j]].Status = &sts[j]
		}
	}
	return results, nil
}
