package mail

import (
	"fmt"
	"strings"
	"time"
)

// dateNames are the weekdays (from Sunday) and months of each language but
// English, whose Go formats.
var dateNames = map[string]struct{ days, months string }{
	"de": {"Sonntag Montag Dienstag Mittwoch Donnerstag Freitag Samstag",
		"Januar Februar März April Mai Juni Juli August September Oktober November Dezember"},
	"fr": {"dimanche lundi mardi mercredi jeudi vendredi samedi",
		"janvier février mars avril mai juin juillet août septembre octobre novembre décembre"},
	"es": {"domingo lunes martes miércoles jueves viernes sábado",
		"enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"},
	"it": {"domenica lunedì martedì mercoledì giovedì venerdì sabato",
		"gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre"},
}

// dateLayouts arrange a weekday (%[1]s), day (%[2]d), month (%[3]s), year
// (%[4]d) and time (%[5]s) as each language writes a date and time.
var dateLayouts = map[string]string{
	"de": "%[1]s, %[2]d. %[3]s %[4]d, %[5]s UTC",
	"fr": "%[1]s %[2]d %[3]s %[4]d à %[5]s UTC",
	"es": "%[1]s, %[2]d de %[3]s de %[4]d, %[5]s UTC",
	"it": "%[1]s %[2]d %[3]s %[4]d, %[5]s UTC",
}

// dateIn returns the template function date of lang: a time in UTC, as
// "Monday, 2 January 2006, 15:04 UTC" reads in lang.
func dateIn(lang string) func(time.Time) string {
	names, ok := dateNames[lang]
	if !ok {
		return func(t time.Time) string { return t.UTC().Format("Monday, 2 January 2006, 15:04 UTC") }
	}
	days, months := strings.Fields(names.days), strings.Fields(names.months)
	return func(t time.Time) string {
		t = t.UTC()
		return fmt.Sprintf(dateLayouts[lang], days[t.Weekday()], t.Day(), months[t.Month()-1], t.Year(), t.Format("15:04"))
	}
}
