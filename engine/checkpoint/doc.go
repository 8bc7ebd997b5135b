// Package checkpoint stores ntklsh models and training state in a single
// safetensors file (readable by PyTorch's safetensors.torch.load_file),
// written atomically, with a SHA-256 of the tensor data and a format version
// in its metadata, and a model.json beside it describing the architecture
// and the normalization for people and other tools.
//
// Layout of DIR/checkpoint.safetensors:
//
//	layers.{i}.weight  F32 [out, in]   weight of affine layer i (0-based), as torch.nn.Linear
//	layers.{i}.bias    F32 [out]
//	optimizer.velocity F32 [P]         momentum buffer (training checkpoints with momentum)
//	rehash.w0          F32 [P]         parameters of the last rehash (the tables are rebuilt from it)
//	background.w0      F32 [P]         parameters of a background rehash in flight (restarted on resume)
//	__metadata__["ntklsh"]             JSON Meta: format, version, model, normalization, data options, training state
//
// Write never damages an existing checkpoint: it writes a temporary file in
// DIR, fsyncs it, renames it over the old one and fsyncs DIR, so a full disk
// or a killed process leaves the previous checkpoint as it was.
package checkpoint
