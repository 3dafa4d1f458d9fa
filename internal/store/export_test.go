package store

// Test hooks into group commit, for store_test.

// SetBeforeTake makes every committer call f before it takes a batch.
func SetBeforeTake(s *Store, f func()) {
	for _, c := range []*committer{s.group, s.writes} {
		if f == nil {
			c.beforeTake.Store(nil)
		} else {
			c.beforeTake.Store(&f)
		}
	}
}

// Queued returns how many webhooks and writes wait for a transaction.
func Queued(s *Store) int {
	if s.writes == s.group {
		return s.group.queued()
	}
	return s.group.queued() + s.writes.queued()
}
