"""PyTorch checkpoints shaped like HAT's, written by torch.save, for the Swift checkpoint reader.

Usage: torch_checkpoint_oracle.py OUT_DIR

Writes into OUT_DIR, for each of the two layouts (zip: torch >= 1.6 default; legacy:
_use_new_zipfile_serialization=False, as HAT's 2020 files) and two precisions:
  super_{zip,legacy}_{fp32,fp16}.pt  a fairseq/HAT-style checkpoint: args (argparse.Namespace with HAT's
      keys), model (OrderedDict with HAT's parameter names, a SuperTransformer of a small space),
      optimizer_history, extra_state with fairseq meters (fairseq.meters.AverageMeter/StopwatchMeter/
      TimeMeter instances), last_optimizer_state (Adam-like state), plus tensors that are views:
      'views' -> {'transposed': W.t(), 'narrow': W[1:3, 2:], 'strided': W[::2]} sharing W's storage.
      Each file is first saved under another name and renamed (torch names the zip's top folder
      after the first name).
  wmt_{zip,legacy}_fp32.pt   a WMT-style space: all embeddings shared (fairseq stores the one table
      under encoder. and decoder.embed_tokens.weight), no decoder.embed_out
  sub_{zip,legacy}_fp16.pt   a SubTransformer run (train_subtransformer and the *_subtransformer keys)
      in the first checkpoint's SuperTransformer shape
  hostile_{zip,legacy}_{system,eval}.pt   objects whose __reduce__ calls os.system / builtins.eval
  mismatch_{shape,unknown,missing}.pt, no_args.pt   args that do not match the weights (FFN 32 for
      weights of 24), an extra weight, a missing weight, no args at all
  compressed_zip.pt      a zip checkpoint re-packed with DEFLATE records
  expected.safetensors   every tensor of the fp32 checkpoint's model and views, float32, keyed
                         model/NAME and views/NAME; the fp16 files hold these values rounded to fp16
                         (expected_fp16.safetensors: those, as float32)
  dicts/dict.{de,en}.txt  fairseq dictionaries sized for the IWSLT-style models (7 and 5 words), and
      dicts/{test,valid,train}.de-en.{de,en}.{idx,bin}: 3-, 4- and 24-sentence data-bin splits (mmap index)
  args.json              the args Namespace as JSON (the fields the test checks)
"""
import argparse, collections, json, os, sys, types, zipfile

import torch
from safetensors.torch import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(1234)

# fairseq's meters, as classes of a module named fairseq.meters (pickled by module and name only).
fairseq = types.ModuleType("fairseq"); meters = types.ModuleType("fairseq.meters")
class AverageMeter:
    def __init__(self): self.val, self.avg, self.sum, self.count = 0.5, 0.25, 10.0, 40
class StopwatchMeter:
    def __init__(self): self.sum, self.n, self.start_time = 1.5, 3, None
class TimeMeter:
    def __init__(self): self.init, self.start, self.n = 0, 1234.5, 7
for c in (AverageMeter, StopwatchMeter, TimeMeter):
    c.__module__ = "fairseq.meters"; setattr(meters, c.__name__, c)
fairseq.meters = meters
sys.modules["fairseq"] = fairseq; sys.modules["fairseq.meters"] = meters

# A small HAT space: embed 16, qkv 16, FFN 24, 2+2 layers, separate vocabularies (IWSLT-style, untied output).
E, Q, F, L, VS, VT = 16, 16, 24, 2, 11, 9
args = argparse.Namespace(
    arch="transformersuper_iwslt_de_en", encoder_embed_dim=E, decoder_embed_dim=E, encoder_ffn_embed_dim=F,
    decoder_ffn_embed_dim=F, encoder_layers=L, decoder_layers=L, encoder_attention_heads=4, decoder_attention_heads=4,
    qkv_dim=Q, share_all_embeddings=False, share_decoder_input_output_embed=False, max_source_positions=1024,
    max_target_positions=1024, encoder_normalize_before=False, dropout=0.3, attention_dropout=0.1, activation_fn="relu",
    encoder_embed_choice=[16, 12], decoder_embed_choice=[16, 12], encoder_layer_num_choice=[2],
    decoder_layer_num_choice=[2, 1], encoder_ffn_embed_dim_choice=[24, 16], decoder_ffn_embed_dim_choice=[24, 16],
    encoder_self_attention_heads_choice=[4, 2], decoder_self_attention_heads_choice=[4, 2],
    decoder_ende_attention_heads_choice=[4, 2], decoder_arbitrary_ende_attn_choice=[-1, 1],
    source_lang="de", target_lang="en", lr=[0.0005], update_freq=[1], adam_betas="(0.9, 0.98)", fp16=False,
    max_tokens=4096, distributed_world_size=8, label_smoothing=0.1, weight_decay=0.0, vocab_original_scaling=False,
    max_update=50000, max_epoch=0, warmup_updates=10000, warmup_init_lr=1e-07, lr_scheduler="inverse_sqrt", optimizer="adam",
    criterion="label_smoothed_cross_entropy", data="data/binary/iwslt14_de_en", save_dir="checkpoints/iwslt", seed=1)

model = collections.OrderedDict()
def add(name, *shape):
    model[name] = torch.randn(*shape)
for side, vocab in (("encoder", VS), ("decoder", VT)):
    model[f"{side}.version"] = torch.tensor([2.0])
    add(f"{side}.embed_tokens.weight", vocab, E)
    model[f"{side}.embed_positions._float_tensor"] = torch.empty(1)
    for i in range(L):
        p = f"{side}.layers.{i}."
        attns = ["self_attn"] + (["encoder_attn"] if side == "decoder" else [])
        for a in attns:
            add(p + a + ".in_proj_weight", 3 * Q, E); add(p + a + ".in_proj_bias", 3 * Q)
            add(p + a + ".out_proj.weight", E, Q); add(p + a + ".out_proj.bias", E)
            add(p + a + "_layer_norm.weight", E); add(p + a + "_layer_norm.bias", E)
        add(p + "fc1.weight", F, E); add(p + "fc1.bias", F); add(p + "fc2.weight", E, F); add(p + "fc2.bias", E)
        add(p + "final_layer_norm.weight", E); add(p + "final_layer_norm.bias", E)
add("decoder.embed_out", VT, E)
model["encoder.embed_positions._float_tensor"].fill_(1e26)  # garbage, as in HAT's files

def hat_model(E, Q, F, L, VS, VT, shared):
    """A state dict with HAT's names; a shared table appears under both sides (one tensor), as fairseq stores it."""
    m = collections.OrderedDict()
    shared_table = torch.randn(VS, E) if shared else None
    for side, vocab in (("encoder", VS), ("decoder", VT)):
        m[f"{side}.version"] = torch.tensor([2.0])
        m[f"{side}.embed_tokens.weight"] = shared_table if shared else torch.randn(vocab, E)
        m[f"{side}.embed_positions._float_tensor"] = torch.empty(1).fill_(1e26)
        for i in range(L):
            p = f"{side}.layers.{i}."
            for a in ["self_attn"] + (["encoder_attn"] if side == "decoder" else []):
                m[p + a + ".in_proj_weight"] = torch.randn(3 * Q, E); m[p + a + ".in_proj_bias"] = torch.randn(3 * Q)
                m[p + a + ".out_proj.weight"] = torch.randn(E, Q) / Q ** 0.5; m[p + a + ".out_proj.bias"] = torch.randn(E)
                m[p + a + "_layer_norm.weight"] = 1 + 0.1 * torch.randn(E); m[p + a + "_layer_norm.bias"] = 0.1 * torch.randn(E)
            m[p + "fc1.weight"] = torch.randn(F, E) / E ** 0.5; m[p + "fc1.bias"] = torch.randn(F)
            m[p + "fc2.weight"] = torch.randn(E, F) / F ** 0.5; m[p + "fc2.bias"] = torch.randn(E)
            m[p + "final_layer_norm.weight"] = 1 + 0.1 * torch.randn(E); m[p + "final_layer_norm.bias"] = 0.1 * torch.randn(E)
    if not shared:
        m["decoder.embed_out"] = torch.randn(VT, E) / E ** 0.5
    return m

# A WMT-style space (one joint vocabulary, all embeddings shared: no embed_out) and a SubTransformer
# trained inside the IWSLT-style space's shape (train_subtransformer with the *_subtransformer keys).
wmt_args = argparse.Namespace(**{**vars(args), "arch": "transformersuper_wmt_en_de", "share_all_embeddings": True,
                                 "encoder_embed_dim": 24, "decoder_embed_dim": 24, "encoder_embed_choice": [24, 16],
                                 "decoder_embed_choice": [24, 16], "encoder_layers": 3, "decoder_layers": 3,
                                 "encoder_layer_num_choice": [3], "decoder_layer_num_choice": [3, 2, 1],
                                 "decoder_arbitrary_ende_attn_choice": [-1, 1, 2]})
wmt_model = hat_model(24, Q, F, 3, 13, 13, shared=True)
sub_args = argparse.Namespace(**{**vars(args), "train_subtransformer": True, "encoder_embed_dim_subtransformer": 12,
                                 "decoder_embed_dim_subtransformer": 16, "encoder_layer_num_subtransformer": 2,
                                 "decoder_layer_num_subtransformer": 1, "encoder_ffn_embed_dim_all_subtransformer": [16, 24],
                                 "decoder_ffn_embed_dim_all_subtransformer": [24, 24],
                                 "encoder_self_attention_heads_all_subtransformer": [2, 4],
                                 "decoder_self_attention_heads_all_subtransformer": [4, 4],
                                 "decoder_ende_attention_heads_all_subtransformer": [2, 4],
                                 "decoder_arbitrary_ende_attn_all_subtransformer": [1, -1]})

W = torch.randn(4, 6)
views = {"transposed": W.t(), "narrow": W[1:3, 2:], "strided": W[::2], "base": W}

def checkpoint(dtype, args=args, model=model):
    m = collections.OrderedDict((k, v.to(dtype) if v.is_floating_point() else v) for k, v in model.items())
    return {
        "args": args,
        "model": m,
        "optimizer_history": [{"criterion_name": "LabelSmoothedCrossEntropyCriterion", "optimizer_name": "FairseqAdam",
                               "lr_scheduler_state": {"best": 3.25}, "num_updates": 2}],
        "extra_state": {"epoch": 1, "val_loss": 3.25, "best": 3.25,
                        "train_iterator": {"epoch": 1, "iterations_in_epoch": 2, "shuffle": True},
                        "train_meters": {"train_loss": AverageMeter(), "wall": StopwatchMeter(), "wps": TimeMeter()}},
        "last_optimizer_state": {"state": {i: {"step": 2, "exp_avg": torch.randn_like(v.float()),
                                               "exp_avg_sq": torch.rand_like(v.float())}
                                           for i, v in enumerate(model.values())},
                                 "param_groups": [{"lr": 0.0005, "betas": (0.9, 0.98), "eps": 1e-8, "params": list(range(len(model)))}]},
        "views": {k: v.to(dtype) for k, v in views.items()},
    }

def save(obj, name, legacy):
    first = os.path.join(out, "first_saved_as_" + name)
    torch.save(obj, first, _use_new_zipfile_serialization=not legacy)
    os.replace(first, os.path.join(out, name))

for legacy in (False, True):
    layout = "legacy" if legacy else "zip"
    for precision, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
        save(checkpoint(dtype), f"super_{layout}_{precision}.pt", legacy)
    save(checkpoint(torch.float32, wmt_args, wmt_model), f"wmt_{layout}_fp32.pt", legacy)
    save(checkpoint(torch.float16, sub_args, model), f"sub_{layout}_fp16.pt", legacy)

    class System:
        def __reduce__(self): return (os.system, ("echo pwned > " + os.path.join(out, "PWNED"),))
    class Eval:
        def __reduce__(self): return (eval, ("__import__('os').system('echo pwned')",))
    save({"model": collections.OrderedDict(w=torch.ones(2)), "payload": System()}, f"hostile_{layout}_system.pt", legacy)
    save({"payload": Eval(), "model": collections.OrderedDict(w=torch.ones(2))}, f"hostile_{layout}_eval.pt", legacy)

# Args that do not match the weights, and a weight the args' model does not have.
save(checkpoint(torch.float32, argparse.Namespace(**{**vars(args), "encoder_ffn_embed_dim": 32}), model), "mismatch_shape.pt", False)
save(checkpoint(torch.float32, args, collections.OrderedDict(list(model.items()) + [("decoder.layers.0.adapter.weight", torch.ones(2))])),
     "mismatch_unknown.pt", False)
missing = collections.OrderedDict((k, v) for k, v in model.items() if k != "decoder.layers.1.fc2.bias")
save(checkpoint(torch.float32, args, missing), "mismatch_missing.pt", False)
save({"model": model}, "no_args.pt", False)

# The zip checkpoint with its records compressed (PyTorch never writes this; a reader must refuse it).
with zipfile.ZipFile(os.path.join(out, "super_zip_fp32.pt")) as src, \
     zipfile.ZipFile(os.path.join(out, "compressed_zip.pt"), "w", compression=zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        dst.writestr(item.filename, src.read(item.filename))

# fairseq dictionaries for the IWSLT-style models (source 11 = 4 specials + 7, target 9 = 4 + 5).
os.makedirs(os.path.join(out, "dicts"), exist_ok=True)
for lang, words in (("de", ["haus", "mann", "frau", "kind", "hund", "katze", "baum"]), ("en", ["house", "man", "woman", "child", "dog"])):
    with open(os.path.join(out, "dicts", f"dict.{lang}.txt"), "w") as f:
        f.writelines(f"{w} {100 - i}\n" for i, w in enumerate(words))

# A data-bin test split for them (fairseq's mmap index, uint16 ids, eos-terminated): 3 sentences.
import struct
import numpy as np
def write_mmap(prefix, sentences):
    with open(prefix + ".bin", "wb") as f:
        for x in sentences: f.write(np.array(x, dtype=np.uint16).tobytes())
    pointers = np.cumsum([0] + [2 * len(x) for x in sentences[:-1]]).astype(np.int64)
    with open(prefix + ".idx", "wb") as f:
        f.write(b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + struct.pack("<B", 8) + struct.pack("<Q", len(sentences)))
        f.write(np.array([len(x) for x in sentences], dtype=np.int32).tobytes() + pointers.tobytes())
write_mmap(os.path.join(out, "dicts", "test.de-en.de"), [[4, 5, 2], [6, 7, 8, 9, 2], [10, 2]])
write_mmap(os.path.join(out, "dicts", "test.de-en.en"), [[4, 5, 2], [8, 6, 7, 2], [7, 2]])
write_mmap(os.path.join(out, "dicts", "valid.de-en.de"), [[5, 6, 7, 2], [8, 2], [9, 10, 4, 2], [6, 2]])
write_mmap(os.path.join(out, "dicts", "valid.de-en.en"), [[5, 6, 2], [4, 8, 2], [7, 7, 2], [5, 4, 6, 2]])
# A 24-sentence train split of random ids (fine-tuning an imported model on a data-bin folder).
ids = np.random.default_rng(11)
write_mmap(os.path.join(out, "dicts", "train.de-en.de"), [list(map(int, ids.integers(4, 11, size=int(ids.integers(1, 6))))) + [2] for _ in range(24)])
write_mmap(os.path.join(out, "dicts", "train.de-en.en"), [list(map(int, ids.integers(4, 9, size=int(ids.integers(1, 6))))) + [2] for _ in range(24)])

def expected(dtype):
    t = {f"model/{k}": v.to(dtype).float().contiguous() for k, v in model.items()}
    t.update({f"views/{k}": v.to(dtype).float().contiguous() for k, v in views.items()})
    return t
save_file(expected(torch.float32), os.path.join(out, "expected.safetensors"))
save_file(expected(torch.float16), os.path.join(out, "expected_fp16.safetensors"))
with open(os.path.join(out, "args.json"), "w") as f:
    json.dump(vars(args), f)
print(json.dumps({"tensors": len(model), "files": sorted(os.listdir(out))}))
