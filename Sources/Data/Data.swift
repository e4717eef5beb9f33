// The data stage (issue 4) lands here.
