package engine

// Recorder observes a training run (as gonum/optimize's Recorder does an
// optimization): Train calls it with every evaluation row, after every
// iteration, and with the progress of the CPU rehashes.
type Recorder interface {
	// RecordEval is called with every evaluation row.
	RecordEval(Eval)
	// RecordIter is called after every iteration with the minibatch's
	// importance-weighted loss and the cumulative times.
	RecordIter(IterRecord)
	// RecordRehash reports the progress of a rehash (see
	// ntk.RehashOptions.Progress); it is called from several goroutines.
	RecordRehash(done, total int)
}

// Observers is a Recorder made of optional functions.
type Observers struct {
	OnEval           func(Eval)
	OnIter           func(IterRecord)
	OnRehashProgress func(done, total int)
}

// RecordEval calls OnEval when set.
func (o Observers) RecordEval(e Eval) {
	if o.OnEval != nil {
		o.OnEval(e)
	}
}

// RecordIter calls OnIter when set.
func (o Observers) RecordIter(r IterRecord) {
	if o.OnIter != nil {
		o.OnIter(r)
	}
}

// RecordRehash calls OnRehashProgress when set.
func (o Observers) RecordRehash(done, total int) {
	if o.OnRehashProgress != nil {
		o.OnRehashProgress(done, total)
	}
}
