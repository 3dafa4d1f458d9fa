package orders

import (
	"strings"
	"time"
)

// State is assessgate's own view of where an order is. Kombo's status (OPEN,
// COMPLETED, …) is kept beside it in Order.Status.
type State string

// The states of an order, in the order they are usually passed through.
const (
	StateReceived  State = "received"  // stored; nothing sent yet
	StateInvited   State = "invited"   // invitation e-mailed (or link handed out inline)
	StateStarted   State = "started"   // the candidate opened the link
	StateCompleted State = "completed" // a COMPLETED result was accepted
	StateCancelled State = "cancelled" // a CANCELLED result was accepted
	StateExpired   State = "expired"   // the invitation expired unused
)

// states lists every state in the order orders usually pass them.
var states = []State{StateReceived, StateInvited, StateStarted, StateCompleted, StateCancelled, StateExpired}

// Transition is a step of an order's lifecycle: what happened to it, which
// states it may happen in, and the state it leads to from each.
type Transition string

// The transitions of an order. An order is created received; a state that
// no transition leaves is final.
const (
	// Invite: an invitation was sent. A received order becomes invited;
	// an invited or started one is invited again and keeps its state.
	Invite Transition = "invite"
	// Start: the candidate opened the link of a received or invited order.
	Start Transition = "start"
	// Complete: a COMPLETED result was accepted for an open order.
	Complete Transition = "complete"
	// Cancel: a CANCELLED result was accepted for an open order.
	Cancel Transition = "cancel"
	// Expire: the invitation of an open order expired.
	Expire Transition = "expire"
)

// transitions is the lifecycle: for each transition, the states it may
// happen in and the state it leads to from each.
var transitions = map[Transition]map[State]State{
	Invite:   {StateReceived: StateInvited, StateInvited: StateInvited, StateStarted: StateStarted},
	Start:    {StateReceived: StateStarted, StateInvited: StateStarted},
	Complete: {StateReceived: StateCompleted, StateInvited: StateCompleted, StateStarted: StateCompleted},
	Cancel:   {StateReceived: StateCancelled, StateInvited: StateCancelled, StateStarted: StateCancelled},
	Expire:   {StateReceived: StateExpired, StateInvited: StateExpired, StateStarted: StateExpired},
}

// Transitions returns every transition.
func Transitions() []Transition { return []Transition{Invite, Start, Complete, Cancel, Expire} }

// From returns the states t may happen in, in the order of States.
func (t Transition) From() []State {
	var from []State
	for _, s := range states {
		if _, ok := transitions[t][s]; ok {
			from = append(from, s)
		}
	}
	return from
}

// Allows reports whether t may happen to an order in state s.
func (t Transition) Allows(s State) bool {
	_, ok := transitions[t][s]
	return ok
}

// Next returns the state t leads to from s, and false when t may not happen
// in s.
func (t Transition) Next(s State) (State, bool) {
	next, ok := transitions[t][s]
	return next, ok
}

// States returns every state, in the order orders usually pass them.
func States() []State { return append([]State(nil), states...) }

// FinalStates returns the states no transition leaves, in the order of
// States: no further work is done for an order in one of them.
func FinalStates() []State {
	var final []State
	for _, s := range states {
		if s.Final() {
			final = append(final, s)
		}
	}
	return final
}

// Final reports whether no transition leaves s: no further work is done
// for an order in state s.
func (s State) Final() bool {
	if !s.Valid() {
		return false
	}
	for _, next := range transitions {
		if _, ok := next[s]; ok {
			return false
		}
	}
	return true
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, v := range states {
		if s == v {
			return true
		}
	}
	return false
}

// LinkExpired reports whether the candidate's link of o no longer works at
// now: the order expired, or it is open and past its expiry (before the job
// that expires it has run).
func (o *Order) LinkExpired(now time.Time) bool {
	return o.State == StateExpired || !o.State.Final() && o.ExpiresAt != nil && !now.Before(*o.ExpiresAt)
}

// StateNames lists the states in words, for messages: "received, invited,
// started, completed, cancelled or expired".
func StateNames() string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
