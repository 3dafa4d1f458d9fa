//go:build !unix

package assessgate

// ownSQLite does nothing where flock does not exist: the one-owner rule of
// a SQLite file is then the operator's to keep.
func ownSQLite(path string) (release func(), err error) { return func() {}, nil }
