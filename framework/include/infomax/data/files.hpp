// File formats for arrays: NPY (NumPy) and safetensors (checkpoints readable
// from Python). Writes go to a temporary name in the same folder and are
// renamed into place, so a crash never leaves a half-written file under the
// final name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "infomax/tensor/tensor.hpp"

namespace infomax::data {

// An array read from NPY: uint8 or float32 (other types are converted to f32).
struct NpyArray {
    std::vector<std::int64_t> shape;
    bool is_uint8 = false;
    std::vector<std::uint8_t> bytes;   // when is_uint8
    std::vector<float> values;         // otherwise
};
NpyArray read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);  // f32, C order
void write_npy(const std::string& path, const std::vector<std::int64_t>& values);  // int64, 1-d (labels)

// Named f32 tensors plus string metadata.
struct TensorFile {
    std::map<std::string, Tensor> tensors;  // plain tensors
    std::map<std::string, std::string> metadata;
};
void write_safetensors(const std::string& path, const TensorFile& file);
TensorFile read_safetensors(const std::string& path);

// Writes `text` to `path` via a temporary file, fsynced, renamed, and the
// folder fsynced. A failure is an Error naming `path` and the system's reason;
// the old file, if any, stays as it was.
void write_file_atomic(const std::string& path, const std::string& text);
// Appends `text` to `path` whole or not at all: a failed write (disk full, an
// unwritable file) is cut back off and is an Error naming the file and the reason.
void append_whole(const std::string& path, const std::string& text);
// fsync of a file that is appended to (before a checkpoint that counts on it).
void sync_file(const std::string& path);
// fsync of a folder: makes a rename or a new file in it durable (best effort).
void sync_dir(const std::string& dir);
// The fields of one CSV line as written, split at every comma (no quoting:
// infomax's files and bmi's samples have none): "a,b," is {"a", "b", ""}.
std::vector<std::string> split_csv_line(const std::string& line);
// Removes the `<file>.tmp-<pid>` files an interrupted write left in `dir`;
// only for a folder this process has claimed (no one else writes there).
// Returns how many.
int remove_stale_temporaries(const std::string& dir);
// Why nothing can be written in `dir` (made first if missing), or "" when a
// file can be: checked by creating one, which permissions alone cannot say
// (a read-only mount, a full quota, root).
std::string cannot_write(const std::string& dir);

}  // namespace infomax::data
