package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandTable checks that the usage text and the dispatch read the same
// table: every command is listed, every listed command dispatches (its -h
// succeeds), and an unknown one is a usage error.
func TestCommandTable(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch([]string{"help"}, &out, &errb); code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("usage text lacks %q:\n%s", c.name, out.String())
		}
		var o, e bytes.Buffer
		if code := dispatch([]string{c.name, "-h"}, &o, &e); code != 0 {
			t.Errorf("%s -h: exit %d, stderr %s", c.name, code, e.String())
		}
	}
	errb.Reset()
	if code := dispatch([]string{"trian"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "trian"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errb.String())
	}
	if code := dispatch(nil, &out, &errb); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	errb.Reset()
	if code := dispatch([]string{"train", "--no-such-flag"}, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d, want 2 (stderr %q)", code, errb.String())
	}
}
