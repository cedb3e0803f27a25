report("script", "ran");
