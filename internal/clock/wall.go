package clock

import "time"

// Clock is the time assessgate goes by. It has the methods of River's
// rivertype.TimeGenerator, so one value serves the store and River. Parts
// take one when they are made; nil means Wall.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NowOrNil returns the current time if it is stubbed, nil otherwise
	// (River then uses the database's clock).
	NowOrNil() *time.Time
}

// Wall is the real clock.
var Wall Clock = wall{}

type wall struct{}

func (wall) Now() time.Time       { return time.Now() }
func (wall) NowOrNil() *time.Time { return nil }

// Or returns c, or Wall when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return Wall
	}
	return c
}
