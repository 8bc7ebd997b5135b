// Package data is the data layer of the ntklsh engine: it loads training
// data into dense, row-major float32 matrices, standardizes them, splits
// them, and generates the built-in synthetic "teacher" dataset.
//
// # Datasets
//
// A [Dataset] holds N points with D features (X, N×D) and O targets (Y,
// N×O), both row-major float32. [Dataset.Validate] checks shapes and that
// every value is finite; every loader returns only datasets that pass it.
//
// # File formats
//
// [LoadCSV]/[ReadCSV] read delimited text (CSV, TSV, ';'-separated). The
// default options fit the YearPredictionMSD layout: no header, the target in
// column 0 and the features after it. A header row is detected automatically
// (see [HeaderAuto]); target columns can be chosen with [CSVOptions.Target]
// and [CSVOptions.Targets], and integer class labels can be expanded into
// one-hot rows with [CSVOptions.OneHot].
//
// [LoadLIBSVM]/[ReadLIBSVM] read the sparse LIBSVM/SVMlight format
// ("label idx:val idx:val ..."), densifying each row.
//
// [Load] picks the format from the file name (or sniffs the content) and
// reads gzip- and bzip2-compressed files transparently.
//
// Malformed input never panics and never yields silent NaN/Inf: it is
// reported as a [*ParseError] naming the file, the 1-based line and the
// 1-based field (and the column name when a header gave one). Values that
// do not fit in a float32 (for example 1e39) are errors too.
//
// # Preprocessing
//
// [FitStandardizer] computes per-feature (and optionally per-target) mean
// and standard deviation in float64 on training data; [Standardizer.Apply]
// applies them in place to any dataset of the same shape, and
// [Standardizer.UnapplyY] maps predictions back to target units. [Split]
// makes a seeded random train/test split.
//
// # Synthetic data
//
// [Teacher] labels heavy-tailed (Student-t) inputs with a fixed random tanh
// MLP. Heavy-tailed inputs give a heavy-tailed distribution of per-sample
// gradient norms, which is the regime where importance sampling pays off.
// [ClassTeacher] is its classification twin: the same inputs and network
// give softmax logits, labels are sampled from them (one-hot targets), and
// fitted class biases skew the class frequencies geometrically.
package data
