package store

// Test hooks into group commit, for store_test.

// SetBeforeTake makes every committer call f before it takes a batch.
func SetBeforeTake(s *Store, f func()) {
	if f == nil {
		s.group.beforeTake.Store(nil)
		return
	}
	s.group.beforeTake.Store(&f)
}

// Queued returns how many webhooks wait for a transaction.
func Queued(s *Store) int { return s.group.queued() }
