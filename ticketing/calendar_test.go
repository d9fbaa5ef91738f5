package ticketing

import (
	"testing"
	"time"
)

func mustCal(t *testing.T, c CalendarConfig) *Calendar {
	t.Helper()
	cal, err := NewCalendar("office", c)
	if err != nil {
		t.Fatalf("calendar: %v", err)
	}
	return cal
}

func TestCalendarBusinessTime(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	office := mustCal(t, CalendarConfig{TimeZone: "Asia/Shanghai", Days: []string{"mon", "tue", "wed", "thu", "fri"},
		Start: "09:00", End: "18:00", Holidays: []string{"2025-03-12"}})
	at := func(d, h, m int) time.Time { return time.Date(2025, 3, d, h, m, 0, 0, sh) } // 2025-03-10 is a Monday
	tests := []struct {
		name    string
		a, b    time.Time
		between time.Duration
	}{
		{"within a day", at(10, 10, 0), at(10, 12, 30), 150 * time.Minute},
		{"before opening counts from 09:00", at(10, 7, 0), at(10, 10, 0), time.Hour},
		{"overnight", at(10, 17, 0), at(11, 10, 0), 2 * time.Hour},
		{"holiday skipped", at(11, 17, 0), at(13, 10, 0), 2 * time.Hour},
		{"weekend skipped", at(14, 17, 0), at(17, 10, 0), 2 * time.Hour},
		{"all weekend", at(15, 9, 0), at(16, 18, 0), 0},
		{"reversed", at(10, 12, 0), at(10, 10, 0), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := office.Between(tc.a, tc.b); got != tc.between {
				t.Errorf("Between = %s, want %s", got, tc.between)
			}
			if tc.between > 0 {
				// Add is Between's inverse from a business instant.
				start := tc.a
				if s, _, _ := office.window(start); start.Before(s) {
					start = s
				}
				if got := office.Between(start, office.Add(start, tc.between)); got != tc.between {
					t.Errorf("Between(a, Add(a, d)) = %s, want %s", got, tc.between)
				}
			}
		})
	}
	addTests := []struct {
		name string
		a    time.Time
		d    time.Duration
		want time.Time
	}{
		{"same day", at(10, 9, 0), 15 * time.Minute, at(10, 9, 15)},
		{"friday evening to monday", at(14, 17, 50), 30 * time.Minute, at(17, 9, 20)},
		{"over the holiday", at(11, 17, 0), 2 * time.Hour, at(13, 10, 0)},
		{"night start", at(10, 23, 0), time.Hour, at(11, 10, 0)},
	}
	for _, tc := range addTests {
		if got := office.Add(tc.a, tc.d); !got.Equal(tc.want) {
			t.Errorf("%s: Add = %s, want %s", tc.name, got.In(sh), tc.want)
		}
	}
	if got, want := office.EndOfNextBusinessDay(at(11, 15, 0)), at(13, 18, 0); !got.Equal(want) {
		t.Errorf("next business day after Tue before a Wed holiday = %s, want %s", got.In(sh), want)
	}
	if got, want := office.EndOfNextBusinessDay(at(14, 15, 0)), at(17, 18, 0); !got.Equal(want) {
		t.Errorf("next business day after Friday = %s, want %s", got.In(sh), want)
	}
	if got := AlwaysOn.Between(at(15, 0, 0), at(16, 0, 0)); got != 24*time.Hour {
		t.Errorf("24x7 Between = %s", got)
	}
}

func TestCalendarRejectsBadConfig(t *testing.T) {
	for _, c := range []CalendarConfig{
		{TimeZone: "Mars/Olympus"},
		{Days: []string{"mon", "funday"}, Start: "09:00", End: "18:00"},
		{Days: []string{"mon"}, Start: "18:00", End: "09:00"},
		{Days: []string{"mon"}, Start: "9am", End: "18:00"},
		{Days: []string{"mon"}, Start: "09:00", End: "18:00", Holidays: []string{"10/01"}},
	} {
		if _, err := NewCalendar("bad", c); err == nil {
			t.Errorf("NewCalendar(%+v) accepted", c)
		}
	}
}

func TestCalendarWithoutBusinessDaysTerminates(t *testing.T) {
	var hs []string
	d := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 4*366; i++ {
		hs = append(hs, d.AddDate(0, 0, i).Format(time.DateOnly))
	}
	cal := mustCal(t, CalendarConfig{Days: []string{"mon"}, Start: "09:00", End: "10:00", Holidays: hs})
	if got := cal.Add(d, time.Hour); !got.After(d.AddDate(2, 0, 0)) {
		t.Errorf("Add on a calendar without business days = %s, want far away", got)
	}
}
