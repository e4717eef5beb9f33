"""fairseq data-bin files for FairseqIndexedDataset, written per fairseq's indexed_dataset.py formats
(fairseq itself is not installed in the oracle environment; the writers below follow its
MMapIndexedDataset.Index writer and IndexedDatasetBuilder byte for byte, with numpy).

Usage: fairseq_databin_oracle.py OUT_DIR
Writes OUT_DIR/{mmap_u16,mmap_i32,mmap_u8,legacy_i32,legacy_i64}.{idx,bin} holding the same 300
random sentences (ids 4..vocab-1 then eos 2; one empty sentence; vocab 40,000, or 250 for u8)
and OUT_DIR/expected.json {"sentences": [...], "small": [...]} (the u8 file's sentences).
"""
import json, os, struct, sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
def sentences(vocab):
    s = [list(map(int, rng.integers(4, vocab, size=int(rng.integers(0, 40))))) + [2] for _ in range(299)]
    return s + [[]]
big, small = sentences(40000), sentences(250)
codes = {np.uint8: 1, np.int8: 2, np.int16: 3, np.int32: 4, np.int64: 5, np.uint16: 8}

def mmap(name, data, dtype):
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        for s in data:
            f.write(np.array(s, dtype=dtype).tobytes(order="C"))
    size = np.dtype(dtype).itemsize
    pointers, address = [], 0
    for s in data:
        pointers.append(address)
        address += len(s) * size
    with open(os.path.join(out, name + ".idx"), "wb") as f:
        f.write(b"MMIDIDX\x00\x00")
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", codes[dtype]))
        f.write(struct.pack("<Q", len(data)))
        f.write(np.array([len(s) for s in data], dtype=np.int32).tobytes(order="C"))
        f.write(np.array(pointers, dtype=np.int64).tobytes(order="C"))

def legacy(name, data, dtype):
    size = np.dtype(dtype).itemsize
    data_offsets, dim_offsets, sizes = [0], [0], []
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        for s in data:
            n = f.write(np.array(np.array(s, dtype=np.int64) + 1, dtype=dtype))  # +1: Lua's indexing
            data_offsets.append(data_offsets[-1] + n // size)
            sizes.append(len(s))
            dim_offsets.append(dim_offsets[-1] + 1)
    with open(os.path.join(out, name + ".idx"), "wb") as f:
        f.write(b"TNTIDX\x00\x00")
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<QQ", codes[dtype], size))
        f.write(struct.pack("<QQ", len(data_offsets) - 1, len(sizes)))
        for table in (dim_offsets, data_offsets, sizes):
            f.write(np.array(table, dtype=np.int64).tobytes())

mmap("mmap_u16", big, np.uint16)
mmap("mmap_i32", big, np.int32)
mmap("mmap_u8", small, np.uint8)
legacy("legacy_i32", big, np.int32)
legacy("legacy_i64", big, np.int64)
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"sentences": big, "small": small}, f)
print(json.dumps({"files": sorted(os.listdir(out))}))
