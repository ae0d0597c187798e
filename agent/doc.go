// Package agent is the terminal's domain: the payment flow, the access-token
// policy and the small interfaces (store, clock) that adapters implement. The
// wire protocol itself lives in agent/onecard; persistence lives in offline/.
package agent
