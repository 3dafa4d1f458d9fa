package kombo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckText: checkText's one pass over the bytes and walkText, which
// reads every string, agree on every input: the fast path never lets
// through a NUL or bytes that are not UTF-8 that the walk would catch.
func FuzzCheckText(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(bytes.Replace(b, []byte(`"`), []byte(`"\u0000`), 3))  // escaped NUL in a key or value
		f.Add(bytes.Replace(b, []byte(`"`), []byte(`"\\u0000`), 3)) // a backslash, then "u0000": no NUL
		f.Add(bytes.Replace(b, []byte(`"`), []byte("\"\xff"), 5))   // invalid UTF-8 in a string
		f.Add(bytes.Replace(b, []byte(`"`), []byte(`"\u0000x`), 1))
	}
	f.Add([]byte(`{"a":"\u0000"}`))
	f.Add([]byte(`{"a\u0000":1}`))
	f.Add([]byte("{\"a\":\"\xc3\"}"))
	f.Add([]byte(`["\\u0000"]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, walked := checkText(data), walkText(data)
		if (fast == nil) != (walked == nil) || (fast != nil && *fast != *walked) {
			t.Errorf("checkText(%q) = %v; walkText = %v", data, fast, walked)
		}
	})
}
