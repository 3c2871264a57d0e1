package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

func (u *UI) buildLogin() fyne.CanvasObject {
	m := u.m
	u.URL = widget.NewEntryWithData(m.ServerURL)
	u.URL.SetPlaceHolder("http://localhost:8080")
	u.Email = widget.NewEntryWithData(m.Email)
	u.Email.SetPlaceHolder("dispatcher@example.com")
	u.Password = widget.NewPasswordEntry()
	u.Password.Bind(m.Password)
	u.Password.OnSubmitted = func(string) { m.Login() }

	u.LoginButton = widget.NewButtonWithIcon("Log in", theme.LoginIcon(), m.Login)
	u.LoginButton.Importance = widget.HighImportance
	u.LoginError = widget.NewLabelWithData(m.LoginError)
	u.LoginError.Importance = widget.DangerImportance
	u.LoginError.Wrapping = fyne.TextWrapWord
	u.LoginProgress = widget.NewProgressBarInfinite()
	u.LoginProgress.Hide()
	listen(func() {
		busy, _ := m.LoggingIn.Get()
		if busy {
			u.LoginButton.Disable()
			u.LoginProgress.Show()
			u.LoginProgress.Start()
		} else {
			u.LoginButton.Enable()
			u.LoginProgress.Stop()
			u.LoginProgress.Hide()
		}
	}, m.LoggingIn)

	title := canvas.NewText(Title, theme.Color(theme.ColorNameForeground))
	title.TextSize = 24
	title.TextStyle.Bold = true
	sub := widget.NewLabel("Log in to follow your fleet's integrations live.")

	form := widget.NewForm(
		widget.NewFormItem("Server", u.URL),
		widget.NewFormItem("Email", u.Email),
		widget.NewFormItem("Password", u.Password),
	)
	box := container.NewVBox(title, sub, form, u.LoginButton, u.LoginProgress, u.LoginError)
	return container.NewCenter(container.New(fixedWidth(440), box))
}

// fixedWidth lays its objects out at a fixed width and their own minimum height.
type fixedWidth float32

func (w fixedWidth) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objects {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(float32(w), h)
}

func (w fixedWidth) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}
