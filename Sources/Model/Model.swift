// The model stage lands here.
