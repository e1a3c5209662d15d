set(SP_TEST_EXTRA_TIMEOUT 60) # seconds; the whole file runs in well under one
