// An independent waifu2x vgg_7 forward pass on @tensorflow/tfjs (pure JavaScript
// CPU backend), for scripts/verify-waifu2x.sh: the same weights file, the same
// border rule (nearest 2x, 7 pixels of replicate padding, valid convolutions,
// LeakyReLU 0.1 between layers), nothing shared with aie's C code.
//   node verify-waifu2x.js MODEL.json IN.rgb W H OUT.rgb   (raw RGB24 in and out)
'use strict';
const fs = require('fs');
const tf = require('@tensorflow/tfjs');

async function main() {
    const [modelPath, inPath, ws, hs, outPath] = process.argv.slice(2);
    const W = parseInt(ws, 10), H = parseInt(hs, 10);
    await tf.setBackend('cpu');
    const layers = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
    const src = fs.readFileSync(inPath);
    if (src.length !== W * H * 3) throw new Error(`${inPath}: ${src.length} bytes, expected ${W * H * 3}`);
    const pad = layers.reduce((p, l) => p + (l.kW - 1) / 2, 0); // 7 for vgg_7
    const W2 = 2 * W, H2 = 2 * H, PW = W2 + 2 * pad, PH = H2 + 2 * pad;
    // nearest 2x and replicate padding, NHWC float 0..1
    const x0 = new Float32Array(PW * PH * 3);
    for (let y = 0; y < PH; y++) {
        const sy = Math.min(Math.max(y - pad, 0), H2 - 1) >> 1;
        for (let x = 0; x < PW; x++) {
            const sx = Math.min(Math.max(x - pad, 0), W2 - 1) >> 1;
            for (let c = 0; c < 3; c++) x0[(y * PW + x) * 3 + c] = src[(sy * W + sx) * 3 + c] / 255;
        }
    }
    let x = tf.tensor4d(x0, [1, PH, PW, 3]);
    for (let i = 0; i < layers.length; i++) {
        const l = layers[i];
        const k = l.kW, nin = l.nInputPlane, nout = l.nOutputPlane;
        // torch [out][in][kh][kw] -> tf HWIO [kh][kw][in][out]
        const w = new Float32Array(k * k * nin * nout);
        for (let o = 0; o < nout; o++)
            for (let c = 0; c < nin; c++)
                for (let ky = 0; ky < k; ky++)
                    for (let kx = 0; kx < k; kx++)
                        w[((ky * k + kx) * nin + c) * nout + o] = l.weight[o][c][ky][kx];
        const next = tf.tidy(() => {
            let y = tf.add(tf.conv2d(x, tf.tensor4d(w, [k, k, nin, nout]), 1, 'valid'), tf.tensor1d(l.bias));
            return i + 1 < layers.length ? tf.leakyRelu(y, 0.1) : y;
        });
        x.dispose();
        x = next;
    }
    const out = await x.data();
    const bytes = Buffer.alloc(W2 * H2 * 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(Math.max(out[i], 0), 1) * 255);
    fs.writeFileSync(outPath, bytes);
}

main().catch((e) => {
    console.error(`verify-waifu2x.js: ${e.message}`);
    process.exit(1);
});
