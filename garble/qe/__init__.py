"""Quality estimation with the source: a multilingual LM reads each translation after its source."""
