package rules

import "testing"

func TestDefaultPackUnitTests(t *testing.T) {
	res, err := RunTestFile("default_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		for _, f := range r.Failures {
			t.Errorf("%s: %s", r.Name, f)
		}
	}
}
