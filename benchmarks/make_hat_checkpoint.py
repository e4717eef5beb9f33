"""A full-size HAT SuperTransformer checkpoint with random weights, as HAT's train.py writes one
(args with HAT's keys, model with HAT's names, optimizer history, Adam state), for the import benchmark.

Usage: make_hat_checkpoint.py space1|space0 OUT.pt legacy|zip
  space1: IWSLT'14 de-en (embed 640, qkv 512, FFN 2048, 6+6 layers, vocabularies 8848/6632, untied output): 69.3 M weights
  space0: WMT'14 en-de (embed 640, qkv 512, FFN 3072, 6+6 layers, joint vocabulary 32768, shared): 91.9 M weights
"""
import argparse, collections, sys, time, torch
# HAT's space1 (IWSLT'14 de-en) SuperTransformer: embed 640, qkv 512, FFN 2048, 6+6 layers, vocab 8848/6632, untied output.
space = sys.argv[1]; out = sys.argv[2]; legacy = sys.argv[3] == "legacy"
if space == "space1":
    E, Q, F, L, VS, VT, shared = 640, 512, 2048, 6, 8848, 6632, False
else:  # WMT space0: embed 640, qkv 512, FFN 3072, 6+6 layers, joint vocab 32768
    E, Q, F, L, VS, VT, shared = 640, 512, 3072, 6, 32768, 32768, True
torch.manual_seed(0)
m = collections.OrderedDict()
table = torch.randn(VS, E) * E ** -0.5 if shared else None
for side, V in (("encoder", VS), ("decoder", VT)):
    m[f"{side}.version"] = torch.tensor([2.0])
    m[f"{side}.embed_tokens.weight"] = table if shared else torch.randn(V, E) * E ** -0.5
    m[f"{side}.embed_positions._float_tensor"] = torch.empty(1)
    for i in range(L):
        p = f"{side}.layers.{i}."
        for a in ["self_attn"] + (["encoder_attn"] if side == "decoder" else []):
            m[p + a + ".in_proj_weight"] = torch.randn(3 * Q, E) * 0.02; m[p + a + ".in_proj_bias"] = torch.zeros(3 * Q)
            m[p + a + ".out_proj.weight"] = torch.randn(E, Q) * 0.02; m[p + a + ".out_proj.bias"] = torch.zeros(E)
            m[p + a + "_layer_norm.weight"] = torch.ones(E); m[p + a + "_layer_norm.bias"] = torch.zeros(E)
        m[p + "fc1.weight"] = torch.randn(F, E) * 0.02; m[p + "fc1.bias"] = torch.zeros(F)
        m[p + "fc2.weight"] = torch.randn(E, F) * 0.02; m[p + "fc2.bias"] = torch.zeros(E)
        m[p + "final_layer_norm.weight"] = torch.ones(E); m[p + "final_layer_norm.bias"] = torch.zeros(E)
if not shared:
    m["decoder.embed_out"] = torch.randn(VT, E) * E ** -0.5
a = dict(arch="transformersuper", encoder_embed_dim=E, decoder_embed_dim=E, encoder_ffn_embed_dim=F, decoder_ffn_embed_dim=F,
         encoder_layers=L, decoder_layers=L, encoder_attention_heads=8 if space == "space0" else 4,
         decoder_attention_heads=8 if space == "space0" else 4, qkv_dim=Q,
         share_all_embeddings=shared, share_decoder_input_output_embed=shared, max_source_positions=1024, max_target_positions=1024,
         encoder_embed_choice=[640, 512], decoder_embed_choice=[640, 512], encoder_layer_num_choice=[6],
         decoder_layer_num_choice=[6, 5, 4, 3, 2, 1], encoder_ffn_embed_dim_choice=[F, F // 2 if space == "space1" else 2048, 1024] if space == "space0" else [2048, 1024, 512],
         decoder_ffn_embed_dim_choice=[3072, 2048, 1024] if space == "space0" else [2048, 1024, 512],
         encoder_self_attention_heads_choice=[8, 4] if space == "space0" else [4, 2], decoder_self_attention_heads_choice=[8, 4] if space == "space0" else [4, 2],
         decoder_ende_attention_heads_choice=[8, 4] if space == "space0" else [4, 2], decoder_arbitrary_ende_attn_choice=[-1, 1, 2],
         source_lang="en" if space == "space0" else "de", target_lang="de" if space == "space0" else "en",
         lr=[0.001], update_freq=[16], max_update=40000, max_epoch=0, warmup_updates=10000, dropout=0.3, attention_dropout=0.1,
         label_smoothing=0.1, optimizer="adam", adam_betas="(0.9, 0.98)", lr_scheduler="cosine" if space == "space0" else "inverse_sqrt", max_lr=0.001, warmup_init_lr=1e-07, max_tokens=4096, seed=1, fp16=False)
if space == "space0":
    a["encoder_ffn_embed_dim_choice"] = [3072, 2048, 1024]
ck = {"args": argparse.Namespace(**a), "model": m,
      "optimizer_history": [{"criterion_name": "LabelSmoothedCrossEntropyCriterion", "optimizer_name": "FairseqAdam", "lr_scheduler_state": {"best": 4.0}, "num_updates": 40000}],
      "extra_state": {"epoch": 30, "val_loss": 4.0},
      "last_optimizer_state": {"state": {i: {"step": 40000, "exp_avg": torch.randn_like(v.float()), "exp_avg_sq": torch.rand_like(v.float())}
                                         for i, v in enumerate(x for x in m.values() if x.numel() > 1)},
                               "param_groups": [{"lr": 0.001, "betas": (0.9, 0.98), "eps": 1e-8, "params": list(range(len(m)))}]}}
t = time.time()
torch.save(ck, out, _use_new_zipfile_serialization=not legacy)
n = sum(v.numel() for k, v in m.items() if not k.endswith("_float_tensor") and not (shared and k == "decoder.embed_tokens.weight"))
print(f"{out}: {n/1e6:.1f} M weights, saved in {time.time()-t:.1f} s")
