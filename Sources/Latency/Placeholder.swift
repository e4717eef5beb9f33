// Latency stage: measurement, datasets, predictors, few-shot adaptation.
