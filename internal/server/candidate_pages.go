package server

import (
	"html/template"
	"net/http"

	"golang.org/x/text/language"

	"github.com/assessgate/assessgate/internal/orders"
)

// The candidate pages: what a candidate sees at /a/{token} instead of the
// assessment, and the notice before it. Each is in the candidate's language
// (the order's, see orders.TenantSettings.LanguageOf; for a link that is
// not known, the browser's Accept-Language), says so (lang), and is meant
// to pass WCAG 2.1 AA: one heading, contrast above 4.5:1, a visible focus,
// text that reflows on a phone. It loads nothing from anywhere else.

// pageKind names a candidate page.
type pageKind int

const (
	pageUnknown pageKind = iota
	pageExpired
	pageCancelled
	pageCompleted
	pageUnavailable
	pageNotice
)

// page is what a candidate page says.
type page struct {
	Title   string
	Message string
}

// noticeWords are the words of the notice page around the names.
type noticeWords struct {
	// Processing says who processes the candidate's data: %[1]s is the
	// hiring company, %[2]s the vendor.
	Processing string
	Privacy    string // the privacy policy link's text; %s is the vendor
	Continue   string // the button
	// Unnamed is Processing for a hiring company whose name is not known
	// (%[2]s is the vendor).
	Unnamed string
}

// pageTexts are the candidate pages in every language of orders.Languages
// (TestCandidatePages_EveryLanguage holds them complete).
var pageTexts = map[string]struct {
	pages  map[pageKind]page
	notice noticeWords
}{
	"en": {map[pageKind]page{
		pageUnknown: {"This link does not work",
			"We could not find an assessment for this link. Please check that you copied the whole link from your e-mail, or ask the company that invited you for a new one."},
		pageExpired: {"This invitation has expired",
			"The time to take this assessment has run out. If you would still like to take it, please contact the company that invited you."},
		pageCancelled: {"This assessment was cancelled",
			"The company that invited you no longer needs this assessment. There is nothing more for you to do."},
		pageCompleted: {"You have completed this assessment",
			"Your results have been recorded. Thank you! There is nothing more for you to do."},
		pageUnavailable: {"Please try again in a moment",
			"Something went wrong on our side. Please open the link again in a few minutes."},
		pageNotice: {"Before you start", ""},
	}, noticeWords{
		"%[1]s uses %[2]s to run this assessment. %[2]s processes your answers and your contact details on behalf of %[1]s, to score the assessment and pass the result on to %[1]s.",
		"How %s handles your data (privacy policy)", "Continue to the assessment",
		"The company that invited you runs this assessment with %[2]s. %[2]s processes your answers and your contact details on its behalf, to score the assessment and pass the result on to it."}},
	"de": {map[pageKind]page{
		pageUnknown: {"Dieser Link funktioniert nicht",
			"Zu diesem Link haben wir keinen Test gefunden. Bitte prüfen Sie, ob Sie den Link vollständig aus Ihrer E-Mail kopiert haben, oder bitten Sie das Unternehmen, das Sie eingeladen hat, um einen neuen."},
		pageExpired: {"Diese Einladung ist abgelaufen",
			"Die Frist für diesen Test ist vorbei. Wenn Sie ihn trotzdem noch ablegen möchten, wenden Sie sich bitte an das Unternehmen, das Sie eingeladen hat."},
		pageCancelled: {"Dieser Test wurde abgesagt",
			"Das Unternehmen, das Sie eingeladen hat, benötigt diesen Test nicht mehr. Sie müssen nichts weiter tun."},
		pageCompleted: {"Sie haben diesen Test abgeschlossen",
			"Ihre Ergebnisse sind gespeichert. Vielen Dank! Sie müssen nichts weiter tun."},
		pageUnavailable: {"Bitte versuchen Sie es gleich noch einmal",
			"Bei uns ist etwas schiefgegangen. Bitte öffnen Sie den Link in ein paar Minuten erneut."},
		pageNotice: {"Bevor Sie beginnen", ""},
	}, noticeWords{
		"%[1]s führt diesen Test mit %[2]s durch. %[2]s verarbeitet Ihre Antworten und Kontaktdaten im Auftrag von %[1]s, um den Test auszuwerten und das Ergebnis an %[1]s zu übermitteln.",
		"So geht %s mit Ihren Daten um (Datenschutzerklärung)", "Weiter zum Test",
		"Das Unternehmen, das Sie eingeladen hat, führt diesen Test mit %[2]s durch. %[2]s verarbeitet Ihre Antworten und Kontaktdaten in seinem Auftrag, um den Test auszuwerten und ihm das Ergebnis zu übermitteln."}},
	"fr": {map[pageKind]page{
		pageUnknown: {"Ce lien ne fonctionne pas",
			"Nous n’avons trouvé aucun test pour ce lien. Vérifiez que vous avez bien copié le lien en entier depuis votre e-mail, ou demandez-en un nouveau à l’entreprise qui vous a invité."},
		pageExpired: {"Cette invitation a expiré",
			"Le délai pour passer ce test est écoulé. Si vous souhaitez tout de même le passer, contactez l’entreprise qui vous a invité."},
		pageCancelled: {"Ce test a été annulé",
			"L’entreprise qui vous a invité n’a plus besoin de ce test. Vous n’avez rien d’autre à faire."},
		pageCompleted: {"Vous avez terminé ce test",
			"Vos résultats ont bien été enregistrés. Merci ! Vous n’avez rien d’autre à faire."},
		pageUnavailable: {"Veuillez réessayer dans un instant",
			"Un problème est survenu de notre côté. Merci d’ouvrir à nouveau le lien dans quelques minutes."},
		pageNotice: {"Avant de commencer", ""},
	}, noticeWords{
		"%[1]s fait passer ce test avec %[2]s. %[2]s traite vos réponses et vos coordonnées pour le compte de %[1]s, afin d’évaluer le test et d’en transmettre le résultat à %[1]s.",
		"Comment %s traite vos données (politique de confidentialité)", "Continuer vers le test",
		"L’entreprise qui vous a invité fait passer ce test avec %[2]s. %[2]s traite vos réponses et vos coordonnées pour son compte, afin d’évaluer le test et de lui en transmettre le résultat."}},
	"es": {map[pageKind]page{
		pageUnknown: {"Este enlace no funciona",
			"No hemos encontrado ninguna prueba para este enlace. Compruebe que ha copiado el enlace completo de su correo electrónico o pida uno nuevo a la empresa que le invitó."},
		pageExpired: {"Esta invitación ha caducado",
			"El plazo para realizar esta prueba ha terminado. Si aún desea hacerla, póngase en contacto con la empresa que le invitó."},
		pageCancelled: {"Esta prueba se ha cancelado",
			"La empresa que le invitó ya no necesita esta prueba. No tiene que hacer nada más."},
		pageCompleted: {"Ha completado esta prueba",
			"Sus resultados se han guardado. ¡Gracias! No tiene que hacer nada más."},
		pageUnavailable: {"Vuelva a intentarlo en un momento",
			"Algo ha fallado por nuestra parte. Abra de nuevo el enlace dentro de unos minutos."},
		pageNotice: {"Antes de empezar", ""},
	}, noticeWords{
		"%[1]s realiza esta prueba con %[2]s. %[2]s trata sus respuestas y sus datos de contacto por encargo de %[1]s, para evaluar la prueba y comunicar el resultado a %[1]s.",
		"Cómo trata %s sus datos (política de privacidad)", "Continuar a la prueba",
		"La empresa que le invitó realiza esta prueba con %[2]s. %[2]s trata sus respuestas y sus datos de contacto por encargo de ella, para evaluar la prueba y comunicarle el resultado."}},
	"it": {map[pageKind]page{
		pageUnknown: {"Questo link non funziona",
			"Non abbiamo trovato alcun test per questo link. Verifichi di aver copiato il link completo dalla Sua e-mail, oppure ne chieda uno nuovo all’azienda che L’ha invitata."},
		pageExpired: {"Questo invito è scaduto",
			"Il tempo per svolgere questo test è terminato. Se desidera comunque svolgerlo, contatti l’azienda che L’ha invitata."},
		pageCancelled: {"Questo test è stato annullato",
			"L’azienda che L’ha invitata non ha più bisogno di questo test. Non deve fare nient’altro."},
		pageCompleted: {"Ha completato questo test",
			"I Suoi risultati sono stati registrati. Grazie! Non deve fare nient’altro."},
		pageUnavailable: {"Riprovi tra un momento",
			"Si è verificato un problema da parte nostra. Riapra il link tra qualche minuto."},
		pageNotice: {"Prima di iniziare", ""},
	}, noticeWords{
		"%[1]s svolge questo test con %[2]s. %[2]s tratta le Sue risposte e i Suoi dati di contatto per conto di %[1]s, per valutare il test e comunicarne il risultato a %[1]s.",
		"Come %s tratta i Suoi dati (informativa sulla privacy)", "Continua al test",
		"L’azienda che L’ha invitata svolge questo test con %[2]s. %[2]s tratta le Sue risposte e i Suoi dati di contatto per suo conto, per valutare il test e comunicarle il risultato."}},
}

// pageMatcher picks the language of a browser's Accept-Language among
// orders.Languages, English when none fits.
var pageMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(orders.Languages))
	for i, l := range orders.Languages {
		tags[i] = language.MustParse(l)
	}
	return language.NewMatcher(tags)
}()

// browserLanguage returns the language of orders.Languages that r's
// Accept-Language prefers, or English.
func browserLanguage(r *http.Request) string {
	_, i := language.MatchStrings(pageMatcher, r.Header.Get("Accept-Language"))
	return orders.Languages[i]
}

// pageView is what pageTemplate sees.
type pageView struct {
	Lang    string
	Title   string
	Message string
	// The notice page's: who processes the data, the link to the vendor's
	// privacy policy and its text, and where the button goes.
	Privacy, PrivacyURL, Continue, ContinueURL string
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 1.0625rem; line-height: 1.6; color: #1f1f1f; background: #fff; margin: 0; }
main { max-width: 36em; margin: 0 auto; padding: 3em 1.25em; overflow-wrap: break-word; }
h1 { font-size: 1.5rem; line-height: 1.3; }
a { color: #1a47b8; }
.button { display: inline-block; margin-top: 1em; padding: 0.75em 1.25em; background: #1a47b8; color: #fff; border-radius: 4px; font-weight: 600; text-decoration: none; }
a:focus-visible { outline: 3px solid #1f1f1f; outline-offset: 3px; }
</style></head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{- with .PrivacyURL}}
<p><a href="{{.}}" rel="noopener noreferrer">{{$.Privacy}}</a></p>
{{- end}}
{{- with .ContinueURL}}
<p><a class="button" href="{{.}}">{{$.Continue}}</a></p>
{{- end}}
</main>
</body>
</html>
`))

// candidatePage writes the page of kind in lang (English when lang has
// none) with status.
func (s *Server) candidatePage(w http.ResponseWriter, status int, lang string, kind pageKind) {
	texts, ok := pageTexts[lang]
	if !ok {
		lang, texts = orders.DefaultLanguage, pageTexts[orders.DefaultLanguage]
	}
	p := texts.pages[kind]
	s.writePage(w, status, pageView{Lang: lang, Title: p.Title, Message: p.Message})
}

func (s *Server) writePage(w http.ResponseWriter, status int, v pageView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Nothing from elsewhere: no scripts at all, styles and images of its own.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, v); err != nil {
		s.logger.Warn("candidate page not written", "err", err)
	}
}
