// Sharing the site's address: copied with one click, or shown as a QR code for a phone (drawn
// by qrcode-generator from npm, loaded the first time it is asked for).

export class Share {
  /** `elements`: copy (button), qr (button), dialog (<dialog>), code (where the QR goes). */
  constructor(elements) {
    this.elements = elements;
    this.address = null;
    elements.copy.addEventListener("click", () => this.copy());
    elements.qr.addEventListener("click", () => this.showCode());
  }

  /** The address is known: the buttons work from now on. */
  ready(address) {
    this.address = address;
    this.elements.copy.hidden = false;
    this.elements.qr.hidden = false;
  }

  async copy() {
    const { copy } = this.elements;
    try {
      await navigator.clipboard.writeText(this.address);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Select the address to copy it"; // no clipboard here (http:, say)
    }
    setTimeout(() => {
      copy.textContent = "Copy address";
    }, 2000);
  }

  showCode() {
    const { address } = this;
    return showQrCode(this.elements, address, {
      dialog: "The site's address as a QR code",
      image: `QR code of ${address}`,
    });
  }
}

/**
 * Show `text` as a QR code in `dialog` (its `code` element, and its ".qr-address"); `labels`
 * name the dialog and the code's image.
 */
export async function showQrCode({ dialog, code }, text, labels) {
  const { qrcode } = await import("/bundle/qrcode.js");
  const qr = qrcode(0, "M"); // the smallest version that holds the text
  qr.addData(text);
  qr.make();
  code.innerHTML = qr.createSvgTag({ cellSize: 6, margin: 4, scalable: true });
  const svg = code.querySelector("svg");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", labels.image);
  dialog.setAttribute("aria-label", labels.dialog);
  dialog.querySelector(".qr-address").textContent = text;
  dialog.showModal();
}
