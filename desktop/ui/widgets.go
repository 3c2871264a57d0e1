package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// newCell is a table cell: a coloured dot (hidden unless asked for) and a label.
func newCell() fyne.CanvasObject {
	_, d := dot(colorDisabled)
	return container.NewHBox(d, widget.NewLabel(""))
}

// setCell shows text in a cell made by newCell, with a dot of colour c when withDot.
func setCell(o fyne.CanvasObject, text string, c color.Color, withDot bool) {
	row := o.(*fyne.Container)
	d := row.Objects[0]
	if withDot && c != nil {
		paintDot(d, c)
		d.Show()
	} else {
		d.Hide()
	}
	row.Objects[1].(*widget.Label).SetText(text)
}

// CellText is the label text of a cell made by newCell (for tests).
func CellText(o fyne.CanvasObject) string {
	return o.(*fyne.Container).Objects[1].(*widget.Label).Text
}

func statText() *canvas.Text {
	t := canvas.NewText("0", theme.Color(theme.ColorNameForeground))
	t.TextSize = 26
	t.TextStyle.Bold = true
	return t
}

func setStat(t *canvas.Text, text string, c color.Color) {
	if c == nil {
		c = theme.Color(theme.ColorNameForeground)
	}
	t.Text = text
	t.Color = c
	t.Refresh()
}

// statCard is one of the stat cards: a caption over a big number.
func statCard(caption string, value *canvas.Text) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = 6
	label := widget.NewLabelWithStyle(caption, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewStack(bg, container.NewPadded(container.NewVBox(label, value)))
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}
