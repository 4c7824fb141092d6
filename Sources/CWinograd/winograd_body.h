// The vector passes of Winograd F(4x4, 3x3), included once per path by winograd_kernels.c with
// WINO_FN(name) (the path's function names) and WINO_ATTR (its target attribute) defined. The
// transforms work on v8 (8 channels) values held in arrays and passed by pointer (a vector passed
// by value would change the ABI between paths).

// out = B^T in (6 -> 6), elements `is` and `os` apart.
WINO_ATTR static inline void WINO_FN(bt6)(const v8 *in, int is, v8 *out, int os) {
    v8 v0 = in[0], v1 = in[is], v2 = in[2 * is], v3 = in[3 * is], v4 = in[4 * is], v5 = in[5 * is];
    out[0] = (v0 * 4.0f - v2 * 5.0f) + v4;
    out[os] = (v3 + v4) - (v1 + v2) * 4.0f;
    out[2 * os] = (v4 - v3) + (v1 - v2) * 4.0f;
    out[3 * os] = (v4 - v2) + (v3 - v1) * 2.0f;
    out[4 * os] = (v4 - v2) - (v3 - v1) * 2.0f;
    out[5 * os] = (v1 * 4.0f - v3 * 5.0f) + v5;
}

// out = B in (6 -> 6): the transpose of bt6.
WINO_ATTR static inline void WINO_FN(b6)(const v8 *in, int is, v8 *out, int os) {
    v8 v0 = in[0], v1 = in[is], v2 = in[2 * is], v3 = in[3 * is], v4 = in[4 * is], v5 = in[5 * is];
    out[0] = v0 * 4.0f;
    out[os] = ((v2 - v1) * 4.0f + (v4 - v3) * 2.0f) + v5 * 4.0f;
    out[2 * os] = ((v0 * -5.0f - (v1 + v2) * 4.0f) - v3) - v4;
    out[3 * os] = ((v1 - v2) + (v3 - v4) * 2.0f) - v5 * 5.0f;
    out[4 * os] = (v0 + (v1 + v2)) + (v3 + v4);
    out[5 * os] = v5;
}

// out = A^T in (6 -> 4).
WINO_ATTR static inline void WINO_FN(at6)(const v8 *in, int is, v8 *out, int os) {
    v8 a = in[is] + in[2 * is], b = in[is] - in[2 * is], c = in[3 * is] + in[4 * is], d = in[3 * is] - in[4 * is];
    out[0] = (in[0] + a) + c;
    out[os] = b + d * 2.0f;
    out[2 * os] = a + c * 4.0f;
    out[3 * os] = (b + d * 8.0f) + in[5 * is];
}

// out = A in (4 -> 6): the transpose of at6.
WINO_ATTR static inline void WINO_FN(a4)(const v8 *in, int is, v8 *out, int os) {
    v8 u0 = in[0], u1 = in[is], u2 = in[2 * is], u3 = in[3 * is];
    v8 e = u0 + u2, f = u1 + u3, g = u0 + u2 * 4.0f, h = u1 * 2.0f + u3 * 8.0f;
    out[0] = u0;
    out[os] = e + f;
    out[2 * os] = e - f;
    out[3 * os] = g + h;
    out[4 * os] = g - h;
    out[5 * os] = u3;
}

// out = G in (3 -> 6).
WINO_ATTR static inline void WINO_FN(g3)(const v8 *in, int is, v8 *out, int os) {
    v8 g0 = in[0], g1 = in[is], g2 = in[2 * is];
    out[0] = g0 * 0.25f;
    out[os] = ((g0 + g1) + g2) * (-1.0f / 6);
    out[2 * os] = ((g0 - g1) + g2) * (-1.0f / 6);
    out[3 * os] = (g0 * (1.0f / 24) + g1 * (1.0f / 12)) + g2 * (1.0f / 6);
    out[4 * os] = (g0 * (1.0f / 24) - g1 * (1.0f / 12)) + g2 * (1.0f / 6);
    out[5 * os] = g2;
}

// out = G^T in (6 -> 3): the transpose of g3.
WINO_ATTR static inline void WINO_FN(gt6)(const v8 *in, int is, v8 *out, int os) {
    v8 w0 = in[0], w1 = in[is], w2 = in[2 * is], w3 = in[3 * is], w4 = in[4 * is], w5 = in[5 * is];
    out[0] = (w0 * 0.25f - (w1 + w2) * (1.0f / 6)) + (w3 + w4) * (1.0f / 24);
    out[os] = (w2 - w1) * (1.0f / 6) + (w3 - w4) * (1.0f / 12);
    out[2 * os] = ((w3 + w4) - (w1 + w2)) * (1.0f / 6) + w5;
}

// The 4x8 transpose between 4 pixels of 8 channels (in[c], lane l = channel l) and 8 channels of
// 4 pixels (out[j]: channel j's 4 pixels in its low half, channel j+4's in its high half); the same
// shuffles take the second form back to the first.
WINO_ATTR static inline void WINO_FN(transpose4x8)(const v8 *in, v8 *out) {
    v8 t0 = __builtin_shufflevector(in[0], in[1], 0, 8, 1, 9, 4, 12, 5, 13);
    v8 t1 = __builtin_shufflevector(in[0], in[1], 2, 10, 3, 11, 6, 14, 7, 15);
    v8 t2 = __builtin_shufflevector(in[2], in[3], 0, 8, 1, 9, 4, 12, 5, 13);
    v8 t3 = __builtin_shufflevector(in[2], in[3], 2, 10, 3, 11, 6, 14, 7, 15);
    out[0] = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    out[1] = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    out[2] = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    out[3] = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
}

// U = G g G^T, 8 output channels at a time (lanes past out_channels are written as zeros; the
// rows of the padding input channels are never written: the caller zeroes U once).
WINO_ATTR static void WINO_FN(filter)(const cohort_wino_shape *s, const float *w, float *U) {
    const int C = s->channels, K = s->out_channels, cp = s->cp, kp = s->kp;
    for (int c = 0; c < C; c++)
        for (int kb = 0; kb < kp; kb += 8) {
            const int lanes = K - kb < 8 ? K - kb : 8;
            v8 g[3][3], t[6][3], o[6][6];
            for (int j = 0; j < 9; j++) {
                float v[8] = {0};
                for (int l = 0; l < lanes; l++) v[l] = w[((long)(kb + l) * C + c) * 9 + j];
                memcpy(&g[j / 3][j % 3], v, sizeof(v8));
            }
            for (int q = 0; q < 3; q++) WINO_FN(g3)(&g[0][q], 3, &t[0][q], 3);
            for (int i = 0; i < 6; i++) WINO_FN(g3)(&t[i][0], 1, &o[i][0], 1);
            for (int i = 0; i < 36; i++) memcpy(U + ((long)i * cp + c) * kp + kb, &o[i / 6][i % 6], sizeof(v8));
        }
}

// dw += G^T dU G, 8 output channels at a time.
WINO_ATTR static void WINO_FN(filter_grad)(const cohort_wino_shape *s, const float *dU, float *dw) {
    const int C = s->channels, K = s->out_channels, cp = s->cp, kp = s->kp;
    for (int c = 0; c < C; c++)
        for (int kb = 0; kb < kp; kb += 8) {
            const int lanes = K - kb < 8 ? K - kb : 8;
            v8 d[6][6], t[3][6], o[3][3];
            for (int i = 0; i < 36; i++) memcpy(&d[i / 6][i % 6], dU + ((long)i * cp + c) * kp + kb, sizeof(v8));
            for (int j = 0; j < 6; j++) WINO_FN(gt6)(&d[0][j], 6, &t[0][j], 6);
            for (int r = 0; r < 3; r++) WINO_FN(gt6)(&t[r][0], 1, &o[r][0], 1);
            for (int j = 0; j < 9; j++) {
                float v[8];
                memcpy(v, &o[j / 3][j % 3], sizeof(v8));
                for (int l = 0; l < lanes; l++) dw[((long)(kb + l) * C + c) * 9 + j] += v[l];
            }
        }
}

WINO_ATTR static void WINO_FN(input)(const cohort_wino_shape *s, const float *x, float *xp, float *V) {
    const int C = s->channels, H = s->height, W = s->width, pad = s->pad, cp = s->cp;
    const long Hp = 4L * s->tiles_h + 2, Wp = 4L * s->tiles_w + 2, P = (long)s->batch * s->tiles_h * s->tiles_w;
    // NCHW -> the padded, channels-last xp: zeros, then each channel's rows (read in order).
    memset(xp, 0, sizeof(float) * (size_t)(s->batch * Hp * Wp * cp));
    for (int n = 0; n < s->batch; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++) {
                const float *src = x + (((long)n * C + c) * H + h) * W;
                float *dst = xp + ((n * Hp + h + pad) * Wp + pad) * cp + c;
                for (int w = 0; w < W; w++) dst[(long)w * cp] = src[w];
            }
    long p = 0;
    for (int n = 0; n < s->batch; n++)
        for (int th = 0; th < s->tiles_h; th++)
            for (int tw = 0; tw < s->tiles_w; tw++, p++) {
                const float *base = xp + ((n * Hp + 4L * th) * Wp + 4L * tw) * cp;
                for (int cb = 0; cb < cp; cb += 8) {
                    v8 d[6][6], t[6][6], o[6][6];
                    for (int r = 0; r < 6; r++)
                        for (int c = 0; c < 6; c++) memcpy(&d[r][c], base + (r * Wp + c) * cp + cb, sizeof(v8));
                    for (int c = 0; c < 6; c++) WINO_FN(bt6)(&d[0][c], 6, &t[0][c], 6);
                    for (int i = 0; i < 6; i++) WINO_FN(bt6)(&t[i][0], 1, &o[i][0], 1);
                    for (int i = 0; i < 36; i++) memcpy(V + (i * P + p) * cp + cb, &o[i / 6][i % 6], sizeof(v8));
                }
            }
}

WINO_ATTR static void WINO_FN(output)(const cohort_wino_shape *s, const float *M, const float *bias, float *y) {
    const int K = s->out_channels, kp = s->kp, Ho = s->out_h, Wo = s->out_w;
    const long P = (long)s->batch * s->tiles_h * s->tiles_w, plane = (long)Ho * Wo;
    float padded_bias[kp];
    for (int k = 0; k < kp; k++) padded_bias[k] = bias && k < K ? bias[k] : 0.0f;
    long p = 0;
    for (int n = 0; n < s->batch; n++)
        for (int th = 0; th < s->tiles_h; th++)
            for (int tw = 0; tw < s->tiles_w; tw++, p++) {
                // The tile's rows and columns inside the output (the last tiles may overhang it).
                const int rows = Ho - 4 * th < 4 ? Ho - 4 * th : 4, cols = Wo - 4 * tw < 4 ? Wo - 4 * tw : 4;
                float *corner = y + (long)n * K * plane + (4L * th) * Wo + 4L * tw;
                for (int kb = 0; kb < kp; kb += 8) {
                    v8 m[6][6], t[4][6], o[4][4], b;
                    for (int i = 0; i < 36; i++) memcpy(&m[i / 6][i % 6], M + (i * P + p) * kp + kb, sizeof(v8));
                    memcpy(&b, padded_bias + kb, sizeof(v8));
                    for (int j = 0; j < 6; j++) WINO_FN(at6)(&m[0][j], 6, &t[0][j], 6);
                    for (int a = 0; a < 4; a++) WINO_FN(at6)(&t[a][0], 1, &o[a][0], 1);
                    const int lanes = K - kb < 8 ? K - kb : 8;
                    for (int a = 0; a < rows; a++) {  // row a of the tile, 4 pixels into each channel's NCHW plane
                        v8 pixels[4], channels[4];
                        for (int c = 0; c < 4; c++) pixels[c] = o[a][c] + b;
                        WINO_FN(transpose4x8)(pixels, channels);
                        float *row = corner + (long)kb * plane + a * Wo;
                        for (int l = 0; l < lanes; l++) {
                            const float *from = (const float *)&channels[l % 4] + 4 * (l / 4);
                            if (cols == 4) memcpy(row + l * plane, from, 4 * sizeof(float));  // a constant size: one vector move
                            else memcpy(row + l * plane, from, sizeof(float) * (size_t)cols);
                        }
                    }
                }
            }
}

WINO_ATTR static void WINO_FN(output_grad)(const cohort_wino_shape *s, const float *dy, float *dM) {
    const int K = s->out_channels, kp = s->kp, Ho = s->out_h, Wo = s->out_w;
    const long P = (long)s->batch * s->tiles_h * s->tiles_w, plane = (long)Ho * Wo;
    long p = 0;
    for (int n = 0; n < s->batch; n++)
        for (int th = 0; th < s->tiles_h; th++)
            for (int tw = 0; tw < s->tiles_w; tw++, p++) {
                const int rows = Ho - 4 * th < 4 ? Ho - 4 * th : 4, cols = Wo - 4 * tw < 4 ? Wo - 4 * tw : 4;
                const float *corner = dy + (long)n * K * plane + (4L * th) * Wo + 4L * tw;
                for (int kb = 0; kb < kp; kb += 8) {
                    v8 u[4][4], t[6][4], o[6][6];
                    const int lanes = K - kb < 8 ? K - kb : 8;
                    for (int a = 0; a < 4; a++) {  // row a of the tile from each channel's NCHW plane, zeros outside the output
                        v8 channels[4] = {0};
                        if (a < rows) {
                            const float *row = corner + (long)kb * plane + a * Wo;
                            for (int l = 0; l < lanes; l++) {
                                float *to = (float *)&channels[l % 4] + 4 * (l / 4);
                                if (cols == 4) memcpy(to, row + l * plane, 4 * sizeof(float));
                                else memcpy(to, row + l * plane, sizeof(float) * (size_t)cols);
                            }
                        }
                        WINO_FN(transpose4x8)(channels, u[a]);
                    }
                    for (int c = 0; c < 4; c++) WINO_FN(a4)(&u[0][c], 4, &t[0][c], 4);
                    for (int i = 0; i < 6; i++) WINO_FN(a4)(&t[i][0], 1, &o[i][0], 1);
                    for (int i = 0; i < 36; i++) memcpy(dM + (i * P + p) * kp + kb, &o[i / 6][i % 6], sizeof(v8));
                }
            }
}

WINO_ATTR static void WINO_FN(input_grad)(const cohort_wino_shape *s, const float *dV, float *xp, float *dx) {
    const int C = s->channels, H = s->height, W = s->width, pad = s->pad, cp = s->cp;
    const long Hp = 4L * s->tiles_h + 2, Wp = 4L * s->tiles_w + 2, P = (long)s->batch * s->tiles_h * s->tiles_w;
    memset(xp, 0, sizeof(float) * (size_t)(s->batch * Hp * Wp * cp));
    long p = 0;
    for (int n = 0; n < s->batch; n++)
        for (int th = 0; th < s->tiles_h; th++)
            for (int tw = 0; tw < s->tiles_w; tw++, p++) {
                float *base = xp + ((n * Hp + 4L * th) * Wp + 4L * tw) * cp;
                for (int cb = 0; cb < cp; cb += 8) {
                    v8 v[6][6], q[6][6], d[6][6];
                    for (int i = 0; i < 36; i++) memcpy(&v[i / 6][i % 6], dV + (i * P + p) * cp + cb, sizeof(v8));
                    for (int i = 0; i < 6; i++) WINO_FN(b6)(&v[i][0], 1, &q[i][0], 1);
                    for (int c = 0; c < 6; c++) WINO_FN(b6)(&q[0][c], 6, &d[0][c], 6);
                    for (int r = 0; r < 6; r++)
                        for (int c = 0; c < 6; c++) {
                            float *at = base + (r * Wp + c) * cp + cb;
                            v8 sum;
                            memcpy(&sum, at, sizeof(v8));
                            sum += d[r][c];
                            memcpy(at, &sum, sizeof(v8));
                        }
                }
            }
    for (int n = 0; n < s->batch; n++)  // crop into NCHW, adding
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++) {
                const float *src = xp + ((n * Hp + h + pad) * Wp + pad) * cp + c;
                float *dst = dx + (((long)n * C + c) * H + h) * W;
                for (int w = 0; w < W; w++) dst[w] += src[(long)w * cp];
            }
}
