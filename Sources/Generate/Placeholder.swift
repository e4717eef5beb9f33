// Generation stage: incremental decoding, beam search, BLEU and chrF.
