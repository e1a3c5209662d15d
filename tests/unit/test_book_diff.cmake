set(SP_TEST_EXTRA_TIMEOUT 300) # 1.7 M differential ops (normal build), a tenth under ASan; ~15 s CPU
